"""reclaim: get paid, correctly, for the drugs you administer.

Three jobs, one package:

* ``reclaim check``   lints drug claims (X12 837P/837I, CSV, FHIR) before submission;
* ``reclaim recover`` explains denials and underpayments in X12 835 remittances and ranks the work;
* ``reclaim code``    prints a billing guide for any HCPCS code from official CMS data.

Every fact comes from a named release of an official file, loaded into a versioned
reference store (:mod:`reclaim.refdata`).
"""

__version__ = "0.1.0"
