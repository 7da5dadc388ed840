//! Context keys derived from the inventory.
