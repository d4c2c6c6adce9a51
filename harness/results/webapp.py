"""The shipped web app: its first-visit download and time to first prediction."""

from __future__ import annotations

from pydantic import JsonValue

from harness.results.base import Record


class Download(Record):
    """What a first visit of the web app downloads, in bytes and gzip bytes."""

    app_bytes: int
    app_gzip_bytes: int
    model_bytes: int
    model_gzip_bytes: int
    wasm_bytes: int
    wasm_gzip_bytes: int
    total_bytes: int
    total_gzip_bytes: int


class MobileFigures(Record):
    """The app under the device profile (Lighthouse's mobile throttling on Chromium)."""

    profile: dict[str, JsonValue]
    time_to_first_prediction_ms: float
    time_to_first_prediction_samples_ms: list[float] = []
    wasm_single_ms: dict[str, float]


class WebApp(Record):
    variant: str
    download: Download
    gzip_download_bytes: int
    first_visit_gzip_bytes: float | None = None  # fetched by a cold visit before its first prediction
    desktop_download_gzip_bytes: float | None = None  # fetched by a cold visit once the app settled its backend
    desktop_visits: list[dict[str, JsonValue]] = []  # per visit: bytes, settled backend, the cpu ms it judged
    mobile: MobileFigures | None = None
    time_to_first_prediction_ms: float | None = None
    model_ready_ms: float | None = None
    time_to_first_prediction_samples_ms: list[float] = []
    backend: str | None = None
    browser: str | None = None
    calibration: dict[str, float | int | bool] | None = None  # the kernel beside the visits (docs/speed-gates.md)
