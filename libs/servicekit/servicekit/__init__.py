"""Plumbing every Cairn service shares. No business rules live here."""
