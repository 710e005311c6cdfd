#!/bin/sh
# Seeds the fuzz corpora from the test fixtures (run from fuzz/).
set -e
mkdir -p corpus/policy corpus/input corpus/evaluate
cp ../rules/*.rules ../tests/fixtures/compile/*.rules ../tests/fixtures/compile/err/*.rules corpus/policy/
cp ../tests/fixtures/lint/*.rules ../tests/fixtures/hostile/*.rules corpus/policy/
# Lets that reuse lets: the linter's and the explainer's worst case.
{
  printf 'policy "lets" version "1" languages en\nschema {\n  id: text\n  age: decimal?\n  card: text? sensitive\n}\nlet l0 = age > 1 and card != "x"\n'
  i=1; while [ $i -le 30 ]; do printf 'let l%d = l%d and l%d\n' $i $((i-1)) $((i-1)); i=$((i+1)); done
  printf 'message m { en "x {card}" }\nrule r reject {\n  given l30\n  when not l30\n  message m\n}\n'
} > corpus/policy/shared-lets.rules
cp ../tests/fixtures/catalogue/*.yaml ../tests/fixtures/hostile/*.yaml corpus/input/
cp ../tests/fixtures/catalogue/*.yaml corpus/evaluate/
if [ -d ../tests/fixtures/regressions ]; then
  for t in policy input evaluate; do
    [ -d "../tests/fixtures/regressions/$t" ] && cp ../tests/fixtures/regressions/$t/* corpus/$t/ 2>/dev/null || true
  done
fi
# One application per line, and as one JSON document.
printf '%s\n%s\n' '{"id":"a","applicant":{"name":"John Smith","phone":"+1-415-555-0100"},"documents":[{"kind":"passport"}]}' \
  '{"id":"b","applicant":{"name":"王小明","phone":"13812345678"},"documents":[],"bank_card":{"bank":"BOC","number":"6222021234567890123","card_type":"savings","holder_name":"王小明"}}' > corpus/input/batch.jsonl
echo done
