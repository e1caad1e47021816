"""Quầy giao dịch: what an officer at a counter uses (officers.py: log in, pick a counter,
log out; workstation.py: the desk; rating.py: the citizen rating tablet beside it), and in
backoffice/ what supervisors and administrators use away from the counter."""
