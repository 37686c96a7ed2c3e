"""Notifications service: emails (invoice, portal notice, receipt), the
portal inbox and the delivery log."""
