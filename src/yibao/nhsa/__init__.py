"""The national medical insurance platform's institution interface (国家医疗保障信息平台
定点医药机构接口): one JSON envelope per transaction at
``POST /fsi/api/rsfComIfsService/callService``, as hospitals' HIS systems send it.

A face over the same services as the REST API (docs/nhsa.md): it authenticates the
institution (:mod:`.gateway`), parses the envelope (:mod:`.envelope`), calls the concept's
service as the institution's user (:mod:`.transactions`) and renders the answer.
"""
