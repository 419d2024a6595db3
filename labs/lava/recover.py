# Ends what an unclean stop of the lab left behind, so that new jobs run.
# Run by scripts/lava-lab through `lava-server manage shell -c` just before
# it starts the lab's worker: with no worker running, a job that LAVA still
# believes scheduled or running on one of the lab's boards can never finish,
# and every new job would wait behind it forever; jobs still queued belong to
# callers that died with the lab (a killed test run). Boards left in
# Maintenance or Bad by such jobs go back to Good. Prints one line per change.
import os

from django.db import transaction
from lava_scheduler_app.models import Device, TestJob

device_names = os.environ["BF_LAVA_DEVICES"].split()
stuck = [TestJob.STATE_SCHEDULING, TestJob.STATE_SCHEDULED, TestJob.STATE_RUNNING, TestJob.STATE_CANCELING]

with transaction.atomic():
    for job in TestJob.objects.select_for_update().filter(state__in=stuck, actual_device__hostname__in=device_names):
        state = job.get_state_display()
        job.go_state_finished(TestJob.HEALTH_INCOMPLETE)
        job.save()
        print(f"job {job.id}: {state} with no worker running, ended Incomplete")
    device_types = Device.objects.filter(hostname__in=device_names).values_list("device_type__name", flat=True)
    for job in TestJob.objects.select_for_update().filter(
        state=TestJob.STATE_SUBMITTED, requested_device_type__name__in=list(device_types)
    ):
        job.go_state_canceling()
        job.save()
        print(f"job {job.id}: queued before the lab started, canceled")
    for device in Device.objects.select_for_update().filter(hostname__in=device_names):
        changed = []
        if device.state != Device.STATE_IDLE:
            device.state = Device.STATE_IDLE
            changed.append("idle")
        if device.health in (Device.HEALTH_BAD, Device.HEALTH_MAINTENANCE):
            device.health = Device.HEALTH_GOOD
            changed.append("good")
        if changed:
            device.save()
            print(f"device {device.hostname}: {', '.join(changed)}")
