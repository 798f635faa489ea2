"""The directory: the MSP's clients, their contacts and the phones on file."""
from dispatch.directory.csv_import import ImportReport, import_csv, import_csv_in_batches
from dispatch.directory.lookup import contacts_with_phone, match_caller

__all__ = ["ImportReport", "contacts_with_phone", "import_csv", "import_csv_in_batches", "match_caller"]
