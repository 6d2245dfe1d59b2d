from datetime import time, timedelta

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from escalation import services
from escalation.models import (
    ContactMethod,
    EscalationPolicy,
    NotificationRule,
    Schedule,
    ServiceOnCall,
    SlaTarget,
)
from incidents.models import Service, Team, User

TIME_ZONE = "Europe/London"  # a zone with DST, so the demo rotations cross it
WEEKDAYS = [0, 1, 2, 3, 4]


class Command(BaseCommand):
    help = (
        "Load demo on-call data (idempotent): a weekly schedule and a default escalation "
        "policy per team, support hours per service, SLA targets and email contact methods."
    )

    def handle(self, *args, **options):
        if not Team.objects.exists():
            self.stdout.write("No teams yet: run `manage.py demo` first.")
            return
        with transaction.atomic():
            created = self.seed()
        if created:
            self.stdout.write(self.style.SUCCESS(f"Demo on-call data loaded ({created} rows)."))
        else:
            self.stdout.write("Demo on-call data is already loaded; keeping it.")

    def seed(self) -> int:
        created = 0
        # Monday of the week the demo is loaded: the rotation is under way already.
        today = timezone.localdate()
        monday = today - timedelta(days=today.weekday())
        for team in Team.objects.select_related("manager").order_by("name"):
            members = list(team.members.filter(is_active=True).order_by("username"))
            if not members:
                continue
            schedule = Schedule.objects.filter(name=f"{team.name} primary").first()
            if schedule is None:
                schedule = services.schedule_create(
                    name=f"{team.name} primary", time_zone=TIME_ZONE, team=team
                )
                services.layer_create(
                    schedule=schedule, users=members, start_date=monday, handoff_time=time(9)
                )
                created += 1
            if not EscalationPolicy.objects.filter(team=team, is_team_default=True).exists():
                # Nobody acknowledges within 15 minutes: the manager (else the whole team).
                second = team.manager or team
                services.policy_create(
                    name=f"{team.name} default",
                    team=team,
                    is_team_default=True,
                    repeat=1,
                    levels=[
                        {"targets": [schedule], "delay_minutes": 15},
                        {"targets": [second], "delay_minutes": 30},
                    ],
                )
                created += 1
        for service in Service.objects.filter(oncall__isnull=True):
            # P4 and P5 incidents of the service page only within these hours.
            ServiceOnCall.objects.create(
                service=service,
                time_zone=TIME_ZONE,
                support_days=WEEKDAYS,
                support_start=time(9),
                support_end=time(17),
            )
            created += 1
        for priority, (ack, resolve, update) in services.DEFAULT_SLA.items():
            _, new = SlaTarget.objects.get_or_create(
                priority=priority,
                defaults={
                    "time_to_acknowledge": ack,
                    "time_to_resolve": resolve,
                    "update_every": update,
                },
            )
            created += new
        for user in User.objects.filter(is_active=True).exclude(email=""):
            if ContactMethod.objects.filter(user=user).exists():
                continue
            method = services.contact_method_create(user=user, kind="email", address=user.email)
            if not NotificationRule.objects.filter(user=user).exists():
                services.notification_rule_create(user=user, contact_method=method)
            created += 1
        return created
