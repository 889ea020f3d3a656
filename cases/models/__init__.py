from .accounts import (  # noqa: F401
    DEFAULT_TIME_ZONES,
    Agency,
    AgencyKind,
    Country,
    Language,
    User,
    validate_time_zone,
)
from .audit import CaseAccessLog, HistoryEntry  # noqa: F401
from .casework import (  # noqa: F401
    VULNERABILITIES,
    BorderPoint,
    Case,
    CaseMember,
    CaseReferenceCounter,
    CaseStatus,
    ClosureReason,
    Consent,
    ConsentMethod,
    ConsentScope,
    DocumentType,
    DuplicateCandidate,
    Note,
    NoteVisibility,
    Person,
    Priority,
    Relationship,
    Sex,
    Vulnerability,
    normalise_document_number,
    vulnerability_field,
)
from .handoffs import Handoff, HandoffKind, HandoffStatus, LegalBasis, RejectionReason  # noqa: F401
