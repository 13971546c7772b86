"""Readers of Salesforce and Pardot exports (Data Export, report exports, Pardot UI/API).

The flow, one direction (each module imports only those above it):

* :mod:`.textfile` - a delimited text file streamed: encoding (the package's one rule,
  :mod:`analysis.sources.encoding`), delimiter, header, records, structural errors;
* :mod:`.parsers` - vectorised column parsers (Ids, booleans, numbers, dates);
* :mod:`.exports` - shared record machinery: :class:`~.exports.ObjectData`, the
  quarantine (file, line, column, rule broken - never a cell's content),
  :func:`~.exports.finalize` (deleted, merged, duplicate and bad rows);
* :mod:`.objects` - Salesforce object specifications (data tables);
* :mod:`.dataexport` - one Data Export CSV per object (:func:`~.dataexport.read_export`);
* :mod:`.reports` - opportunity report exports, CSV or XLSX (:func:`~.reports.read_report`);
* :mod:`.pardot` - Pardot prospect exports (:func:`~.pardot.load_prospects`);
* :mod:`.semantics` - stage semantics and currency conversion;
* :mod:`.salesforce` - a folder of exports into :class:`~.salesforce.CrmData`
  (:func:`~.salesforce.load_crm`), with the cross-file checks (orphans, impossible
  date orders, won deals without an amount) and the data-quality counts.
"""
