"""The credit side: who may borrow (issue 13).

* ``recommended.py``: the recommended list (推荐名单 / 白名单, 凌源 arts. 6-10): nomination by a
  department, the 领导小组办公室's review, the credit check, 公示 with public objections, listing,
  periodic review and removal; run by ``bpmn/recommended_list.bpmn``.
* ``blacklist.py``: blacklist entries of firms and persons (legal representative, controller, major
  shareholder) with source, start and expiry; imports of joint-punishment lists; removal and appeal.
* ``sources.py``: credit data loaded from its source units (信用黔江): the categories and their templates
  (data: ``data/source_categories.json``), row-by-row validation of the quarterly file, the loaded
  records, and the credit facts the gates read.
* ``idnumber.py``: the 18-digit resident identity number (check digit, masking, keyed digest).
"""
