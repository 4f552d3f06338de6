"""Which fields of a client, a visit and a referral are personal: what erasure blanks and what
a returning client keeps across visits. Plain names, no database: sync (erasure, the pull of
held clients) reads them without loading the ORM the rest of the clients package uses."""

STABLE_FIELDS = (
    "origin_country",
    "destination_country",
    "language",
    "partner_coremigrating",
    "children_coremigrating",
)
PERSONAL_CLIENT_FIELDS = ("name", "birth_year", "language", "partner_coremigrating",
                          "children_coremigrating", "search_key")  # fmt: skip
VISIT_ERASED = ("client_name", "birth_year", "language", "partner_coremigrating",
                "children_coremigrating", "notes")  # fmt: skip
REFERRAL_ERASED = ("reason", "note", "outcome_note")
