from rest_framework.permissions import SAFE_METHODS, BasePermission

from incidents.enums import UserRole


class RolePermission(BasePermission):
    """Stakeholders read; responders work incidents; managers edit reference data; admins all.

    A view names the role its writes need in `write_role`, and may lower or raise it for
    single actions in `action_write_roles` (the reporter confirming a close, say).
    """

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        if request.method in SAFE_METHODS:
            return True
        roles = getattr(view, "action_write_roles", {})
        required = roles.get(getattr(view, "action", None), getattr(view, "write_role", None))
        return user.has_role(required or UserRole.RESPONDER)
