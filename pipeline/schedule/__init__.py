"""Scheduling: pure decisions of what is due when (``decide``) and the APScheduler
runner behind ``trendwatch run`` (``runner``)."""
