//! Lambda@Edge restrictions, checked against a resolved version. (Filled in by
//! the Lambda resolver work.)
