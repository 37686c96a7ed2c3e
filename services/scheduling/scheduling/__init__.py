"""Scheduling: clients' appointments (in person or telehealth), the
telehealth join window and calendar files."""
