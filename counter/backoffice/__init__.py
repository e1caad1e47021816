"""The staff back office, under /counter like the desk it grew from: the supervisor's wall
(supervisor.py), the waiting areas' seat map (seatmap.py), administration (admin.py),
reports with the live dashboard (reports.py), and the dossier register with the post
hand-over (dossiers.py)."""
