"""The marketplace: providers and their services, the category taxonomy, enquiries,
bookings and invoices, reviews, pooled purchases and Shared Lives matching."""

from marketplace.models.buying import Booking, Enquiry, Invoice, Review
from marketplace.models.listings import (
    Category,
    CostOption,
    Location,
    Provider,
    ProviderKind,
    Schedule,
    Service,
    ServiceAtLocation,
    Taxonomy,
    Weekday,
)
from marketplace.models.pools import Pool, PoolMember
from marketplace.models.sharedlives import (
    ArrangementKind,
    CarerProfile,
    Match,
    MatchStep,
    SeekerProfile,
)

__all__ = [
    "ArrangementKind",
    "Booking",
    "CarerProfile",
    "Category",
    "CostOption",
    "Enquiry",
    "Invoice",
    "Location",
    "Match",
    "MatchStep",
    "Pool",
    "PoolMember",
    "Provider",
    "ProviderKind",
    "Review",
    "Schedule",
    "SeekerProfile",
    "Service",
    "ServiceAtLocation",
    "Taxonomy",
    "Weekday",
]
