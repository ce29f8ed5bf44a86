"""Person and firm linkage across departments (stage `link`).

Entry point: `matchers.link.link_month(con, month, decisions_file=None) -> dict`.

  levels.py   thresholds, ID/USCC columns per source, blocking rules, comparison levels (data)
  persons.py  the person matcher (citizen-ID repair), one file; shared scoring/decision SQL
  firms.py    the firm matcher (USCC repair, firm by name within the league)
  names.py    Chinese person/firm name normalisation and comparison (t2s, dots, pinyin homophones)
  codes.py    check characters (GB 11643, GB 32100), edit kinds, one-edit variant SQL
  review.py   the analyst's decisions file (confirm → `reviewed`, reject → never proposed again)
  link.py     link_month: writes person_links, firm_links, review_queue, link_stats; lnk_<source> views
"""
