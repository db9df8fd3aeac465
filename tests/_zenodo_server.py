"""A Zenodo stand-in on 127.0.0.1: ``api/records/<id>`` in the shape of Zenodo's record API.

The listing is ``files: [{key, size, checksum: "md5:<hex>", links: {self: <download URL>}}]``, the
files are served at the links it gives (through :class:`_physionet_server.PhysioNetServer`).
"""

import hashlib
import json

from _physionet_server import PhysioNetServer


class Zenodo:
    """A Zenodo stand-in on 127.0.0.1 serving records ``{record_id: {key: bytes}}``."""

    def __init__(self, records, version="1.0.0"):
        self.records = records
        self.version = version
        self.server = PhysioNetServer({}, release="")

    def __enter__(self):
        self.server.__enter__()
        self.publish()
        return self

    def __exit__(self, *exc):
        self.server.__exit__(*exc)

    @property
    def url(self):
        return self.server.url

    @staticmethod
    def content(record_id, key):
        return f"api/records/{record_id}/files/{key}/content"

    def publish(self, listing_override=None):
        files = {}
        for record_id, members in self.records.items():
            entries = [
                {
                    "key": key,
                    "size": len(data),
                    "checksum": "md5:" + hashlib.md5(data).hexdigest(),
                    "links": {"self": self.url + self.content(record_id, key)},
                }
                for key, data in members.items()
            ]
            listing = {"id": record_id, "metadata": {"version": self.version}, "files": entries}
            if listing_override is not None:
                listing = listing_override(listing)
            files[f"api/records/{record_id}"] = json.dumps(listing).encode()
            for key, data in members.items():
                files[self.content(record_id, key)] = data
        self.server.files = files

    def requests(self):
        return [path for path, _ in self.server.requests]
