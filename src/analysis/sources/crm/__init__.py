"""Readers of Salesforce and Pardot exports (Data Export, report exports, Pardot UI/API)."""
