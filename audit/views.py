from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import render

from audit.models import AuditEvent


@login_required
def audit_log(request):
    if not request.user.is_manager:
        raise PermissionDenied("The audit log is for managers and admins.")
    events = AuditEvent.objects.all()
    if action := request.GET.get("action"):
        events = events.filter(action__startswith=action)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    return render(request, "audit/log.html", {"page": page, "action": action or ""})
