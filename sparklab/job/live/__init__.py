"""The live view of a running job: what it shows (``state``), how it is drawn (``render``) and the
glue that feeds it samples and playbook events (``view``)."""
