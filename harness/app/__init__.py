"""The shipped web app (apps/web): build, serve, measure."""
