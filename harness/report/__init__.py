"""Reports: building, views (HTML, JUnit), history, merge and sign-off."""
