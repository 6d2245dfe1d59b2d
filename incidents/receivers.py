from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.dispatch import receiver

from incidents import login_limits


@receiver(user_login_failed)
def count_failed_login(sender, credentials, request=None, **kwargs) -> None:
    login_limits.record_failure(username=credentials.get("username", ""), request=request)


@receiver(user_logged_in)
def forgive_failed_logins(sender, request, user, **kwargs) -> None:
    login_limits.record_success(username=user.get_username())
