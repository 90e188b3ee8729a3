"""Contacts: find-or-create from inbound numbers, CRUD, uploads, the phone address book.

Entry points: the CRUD in `contacts` (`delete_contact` announces
`bus.contact_deleting`; `list_contacts` answers JSON built from columns by `rows`),
`uploads.upload` (CSV/XLSX; a big file becomes an import job run by `import_batch`),
`phone_contacts` (the address book read through the connection's provider),
`resolve.find_or_create_for_inbound` (a sender's ids -> one contact, through `identities`),
`merges.merge`/`undo` (journaled in `merge_journal`) and `duplicates.list_duplicates`.
"""
