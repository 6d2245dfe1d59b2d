"""What goes into the audit log.

Model signals rather than service hooks on purpose: the admin, the API, the pages and
the shell all change these rows, and the log must see every one of them. Receivers only
record; they carry no domain logic.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver
from knox.models import AuthToken

from audit.services import audit_record
from escalation.models import EscalationLevel, EscalationPolicy, EscalationTarget
from incidents.models import PriorityMatrixEntry
from integrations.models import Integration

User = get_user_model()

# (model, what it is called in the log)
WATCHED = [
    (EscalationPolicy, "escalation_policy"),
    (EscalationLevel, "escalation_policy"),
    (EscalationTarget, "escalation_policy"),
    (PriorityMatrixEntry, "priority_matrix"),
    (Integration, "integration"),
]


@receiver(user_logged_in)
def logged_in(sender, request, user, **kwargs) -> None:
    audit_record(action="login", actor=user, target=user, request=request)


@receiver(user_logged_out)
def logged_out(sender, request, user, **kwargs) -> None:
    if user is not None:
        audit_record(action="logout", actor=user, target=user, request=request)


@receiver(user_login_failed)
def login_failed(sender, credentials, request=None, **kwargs) -> None:
    name = str(credentials.get("username", ""))[:150]
    audit_record(action="login_failed", actor_name=name, request=request)


def _changed(sender, instance, created, name, **kwargs) -> None:
    audit_record(action=f"{name}.{'create' if created else 'update'}", target=instance)


def _deleted(sender, instance, name, **kwargs) -> None:
    audit_record(action=f"{name}.delete", target=instance)


for model, name in WATCHED:
    uid = f"audit-{model._meta.label_lower}"
    post_save.connect(
        lambda sender, name=name, **kw: _changed(sender, name=name, **kw),
        sender=model,
        weak=False,
        dispatch_uid=uid,
    )
    post_delete.connect(
        lambda sender, name=name, **kw: _deleted(sender, name=name, **kw),
        sender=model,
        weak=False,
        dispatch_uid=uid,
    )


@receiver(pre_save, sender=User)
def remember_role(sender, instance, update_fields=None, **kwargs) -> None:
    if update_fields is not None and not {"role", "is_active"} & set(update_fields):
        return  # a login's last_login, say: no query spent
    old = sender.objects.filter(pk=instance.pk).values("role", "is_active").first()
    instance._audit_before = old


@receiver(post_save, sender=User)
def role_changed(sender, instance, created, **kwargs) -> None:
    before = getattr(instance, "_audit_before", None)
    now = {"role": instance.role, "is_active": instance.is_active}
    if created:
        audit_record(action="user.create", target=instance, data=now)
    elif before and before != now:
        changes = {k: [before[k], now[k]] for k in now if before[k] != now[k]}
        audit_record(action="user.update", target=instance, data=changes)


@receiver(post_save, sender=AuthToken)
def token_created(sender, instance, created, **kwargs) -> None:
    if created:
        audit_record(
            action="token.create",
            target=instance.user,
            data={"token_key": instance.token_key, "expiry": str(instance.expiry)},
        )


@receiver(post_delete, sender=AuthToken)
def token_revoked(sender, instance, **kwargs) -> None:
    audit_record(
        action="token.revoke", target=instance.user, data={"token_key": instance.token_key}
    )
