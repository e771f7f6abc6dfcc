//! The built-in reference SCIM 2.0 server (in memory, RFC 7643/7644).
