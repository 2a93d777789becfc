"""Replenishment: inventory-policy math (`policy`) and reorder recommendations (`recommend`)."""
