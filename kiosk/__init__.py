"""Máy lấy số: the kiosk's page (page.py, its template and script), the ticket's layout
(ticket.py), the printers (printers.py), the print dispatch (dispatch.py) and the print
agent for a printer on a kiosk PC's USB port (agent.py). Only transport lives here: print
jobs change state through the engine's use cases."""
