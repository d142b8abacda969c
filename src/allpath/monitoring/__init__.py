"""Monitoring over time: response, MRD, relapse, supportive-care alerts, titration.

Each module reads the record's timeline at its own snapshots (a checkpoint, a candidate
relapse date, "now") and evaluates its cited rule pack there.
"""
