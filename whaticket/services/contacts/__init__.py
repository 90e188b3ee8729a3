"""Contacts: find-or-create from inbound numbers, CRUD, uploads, the phone address book.

Entry points: `contacts.find_or_create_for_inbound` and the CRUD (`delete_contact` announces
`bus.contact_deleting`), `uploads.import_contacts` (CSV/XLSX), `phone_contacts` (the address
book read through the connection's provider).
"""
