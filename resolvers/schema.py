"""The schema object; `schema.graphql` is exported from it (`phasewise export-schema`)."""

from datetime import datetime

from strawberry.schema.config import StrawberryConfig

import resolvers.types.enums  # noqa: F401  (registers the domain enums)
from resolvers import fast_paths
from resolvers.availability import DatabaseOutage
from resolvers.errors import masking_extension
from resolvers.mutation import Mutation
from resolvers.mutations.measurement_points import MEASUREMENT_POINTS, MeasurementPoints
from resolvers.observation import RequestObservation
from resolvers.query import Query
from resolvers.query_limits import QueryLimiter
from resolvers.request_errors import InputChecks, QuietSchema
from resolvers.scalars import DATETIME
from resolvers.subscriptions import Subscription
from resolvers.types.device import Battery, ChargingPole, DcChargingPole, ForecastedSeries

schema = QuietSchema(
    query=Query,
    mutation=Mutation,
    subscription=Subscription,
    types=[ChargingPole, DcChargingPole, ForecastedSeries, Battery],
    config=StrawberryConfig(scalar_map={MeasurementPoints: MEASUREMENT_POINTS, datetime: DATETIME}),
    extensions=[
        masking_extension,
        QueryLimiter,
        InputChecks,
        DatabaseOutage,  # after the masking: it sees the errors first
        RequestObservation,  # last: sees the errors as raised
    ],
)
fast_paths.install(schema)
