from django import template

register = template.Library()


@register.filter
def seconds(value: float | None) -> str:
    """A duration in seconds as responders say it: 45s, 12m, 3h 05m, 2d 4h."""
    if value is None:
        return "—"
    value = round(value)
    days, rest = divmod(value, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m" if minutes else f"{secs}s"


@register.filter
def percent(value: float | None) -> str:
    return "—" if value is None else f"{value:g}%"
