"""How the staff console shows durations, statuses and the throughput chart."""

from datetime import timedelta

from django.utils.html import format_html


def format_duration(value: timedelta | None) -> str:
    if value is None:
        return "—"
    seconds = value.total_seconds()
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 60:
        return f"{seconds:.2f} s"
    minutes, seconds = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def status_badge(status: str, label: str = "") -> str:
    return format_html('<span class="job-badge job-badge-{}">{}</span>', status.lower(), label or status)


def throughput_chart(hourly: list[dict], *, width: int = 720, height: int = 140) -> dict:
    """Geometry of the dashboard's bar chart (inline SVG): jobs ended per hour, done below error."""
    peak = max((h["done"] + h["error"] for h in hourly), default=0) or 1
    slot = width / max(len(hourly), 1)
    bars = []
    for i, h in enumerate(hourly):
        done_h = h["done"] / peak * height
        error_h = h["error"] / peak * height
        bars.append({
            "x": round(i * slot + 2, 1), "w": round(slot - 4, 1),
            "done_y": round(height - done_h, 1), "done_h": round(done_h, 1),
            "error_y": round(height - done_h - error_h, 1), "error_h": round(error_h, 1),
            "label": h["hour"].strftime("%H:00"), "show_label": i % 4 == 0,
            "label_x": round(i * slot + slot / 2, 1), "done": h["done"], "error": h["error"],
        })
    return {"width": width, "height": height, "peak": peak, "bars": bars}
