"""Paying: payees, payment lists, receivables, corrections and bank files (SPEC §9).

Everything here is pure (bytes in, bytes out) except reading the payees file and a bank
template. How approval uses it, in order — data files first (they are hashed into the
approval record), then the documents that print the chain head including that record:

    decls     = <the ruleset's item declarations>       # dict[str, items.ItemPayment]
    ledger    = engine.ledger.read_ledger(run / "ledger.csv")
    directors = lists.directors_from_trace(engine.ledger.read_trace(run / "trace.jsonl"))
    plain     = lists.build_lists(ledger, decls, alliance=..., directors=directors)   # InputError
    book      = payees.validate_payees(path, ledger, plain) if path else None      # InputError: exit 2
    full      = plain.with_accounts(book.accounts) if book else plain
    text      = reconcile.reconcile(ledger, decls, full)                   # ReconcileError: refuse
    data      = files.list_files(full)          # payments.csv, receivables.csv, alliance_items.csv
    banks     = bankfile.bank_files(full, bankfile.load_template(...)) if book else {}
    (+ book.data as the copied payees file)  → hash all into the approval record → chain head
    report.payment_xlsx.payment_lists_xlsx(full, chain_head=..., stamp=..., reconciliation=text)
    report.payment_pdf.payment_lists_pdf(full, chain_head=..., stamp=..., reconciliation=text)

A supersede of approved run A by B: `corrections.corrections(ledger_a, ledger_b)` →
`files.corrections_csv`, `corrections.correction_lists(...)` (validate payees against these),
reconciled with `reconcile(corrections.as_ledger(corrs), decls, lists)`; the correction lists
are the payable files (and the only bank files), B's full lists go alongside stamped
仅供核对，不作发放依据 with no bank file.
"""
