//! Collector tests with stubbed SDK responses (aws-smithy-mocks), for what an emulator cannot
//! produce: several pages of GetAccountAuthorizationDetails, and throttling.
