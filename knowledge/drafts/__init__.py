"""'Tjek mit udkast': a draft afgørelse or sagsfremstilling checked against checklists kept as data
(knowledge/checks/*.yaml), with klarsprog figures and privacy warnings. Plain Python: no Telegram,
no SQL, and the draft is never written anywhere.

    checklists.py  the checklists, the jargon list and the privacy words, loaded and validated
    klarsprog.py   sentences, words, LIX, long sentences, passive forms, jargon, De/du
    privacy.py     CPR numbers and health information beside a name
    documents.py   text out of .txt, .docx and .pdf files, with clear reasons when that fails
    checker.py     the check itself: patterns first, then the embedding model; the report
"""
