"""The one PDF renderer of the printouts."""
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import weasyprint

from api_core.printing import pdf_of
from tests.pdf import pdf_facts


class _Counting(BaseHTTPRequestHandler):
    requests: list[str] = []

    def do_GET(self):
        self.requests.append(self.path)
        self.send_response(404)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_it_fetches_nothing_that_a_page_points_to():
    """A picture or stylesheet address in a page (a URL typed into a record, say) is never requested."""
    server = HTTPServer(("127.0.0.1", 0), _Counting)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        address = f"http://127.0.0.1:{server.server_port}"
        page = (f'<html lang="es"><head><title>Acta</title><link rel="stylesheet" href="{address}/a.css">'
                f'</head><body><img src="{address}/foto.png"><img src="file:///etc/hostname">'
                '<img src="data:image/svg+xml,%3Csvg xmlns=%22http://www.w3.org/2000/svg%22/%3E"></body></html>')
        weasyprint.HTML(string=page).write_pdf()  # WeasyPrint left to itself fetches them
        assert sorted(_Counting.requests) == ["/a.css", "/foto.png"]
        _Counting.requests.clear()
        pdf = pdf_of(page)
    finally:
        server.shutdown()
        server.server_close()
    assert _Counting.requests == []
    assert pdf_facts(pdf).titles == ["Acta"] and pdf_facts(pdf).language == "es"
