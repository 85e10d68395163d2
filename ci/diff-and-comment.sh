#!/usr/bin/env bash
# The CI integrations' work (the GitHub Action, action.yml; the GitLab
# template, ci/gitlab/tsmigrate.yml): for each target, the diff of the
# source against it as a Markdown report cut to fit a comment and as an
# HTML page; one sticky comment per target on the pull or merge request
# (`tsmigrate comment`); the reports appended to the job summary where the
# platform has one; the outputs `changes`, `exit-code`, `report-dir` and
# `plan-path` where it takes outputs.
#
#   PLATFORM=github|gitlab TSMIGRATE_SOURCE=REF TSMIGRATE_TARGETS='REF
#   REF' [TSMIGRATE_ARGS='--prune'] [TSMIGRATE_MAX_BYTES=60000]
#   [TSMIGRATE_COMMENT=true] [TSMIGRATE_PLAN=false]
#   [TSMIGRATE_REPORT_DIR=tsmigrate-reports] ci/diff-and-comment.sh
#
# Exit 0 when every diff ran (with or without differences), else the
# first failing diff's exit code.
set -uo pipefail
platform=${PLATFORM:?PLATFORM is github or gitlab}
source_ref=${TSMIGRATE_SOURCE:?TSMIGRATE_SOURCE names the source}
targets=${TSMIGRATE_TARGETS:?TSMIGRATE_TARGETS names the targets, one per line}
max=${TSMIGRATE_MAX_BYTES:-60000}
out=${TSMIGRATE_REPORT_DIR:-tsmigrate-reports}
read -r -a extra <<<"${TSMIGRATE_ARGS:-}"
mkdir -p "$out"

# Comments go on a pull or merge request only.
comment=${TSMIGRATE_COMMENT:-true}
case "$platform:${GITHUB_EVENT_NAME:-}:${CI_MERGE_REQUEST_IID:-}" in
  github:pull_request*:*) ;;
  gitlab:*:?*) ;;
  *) comment=false ;;
esac

changes=false
failed=0
plan_path=
while IFS= read -r target; do
  target=${target#"${target%%[![:space:]]*}"}
  target=${target%"${target##*[![:space:]]}"}
  [ -z "$target" ] && continue
  slug=$(printf '%s' "$target" | tr -c 'A-Za-z0-9._-' '_')
  md="$out/$slug.md"
  code=0
  tsmigrate diff --source "$source_ref" --target "$target" "${extra[@]}" \
    --format markdown --max-bytes "$max" --exit-code >"$md" || code=$?
  case $code in
    0) ;;
    2) changes=true ;;
    *)
      [ "$failed" = 0 ] && failed=$code
      printf '### tsmigrate: the diff against <code>%s</code> failed (exit %s)\n\nSee the job log.\n' \
        "$target" "$code" >"$md"
      ;;
  esac
  if [ "$code" -le 2 ]; then
    tsmigrate diff --source "$source_ref" --target "$target" "${extra[@]}" \
      --format html >"$out/$slug.html" || true
    if [ "${TSMIGRATE_PLAN:-false}" = true ]; then
      if tsmigrate plan --source "$source_ref" --target "$target" "${extra[@]}" \
        --out "$out/$slug.plan.json" >/dev/null; then
        [ -z "$plan_path" ] && plan_path="$out/$slug.plan.json"
      fi
    fi
  fi
  if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
    cat "$md" >>"$GITHUB_STEP_SUMMARY"
  fi
  if [ "$comment" = true ]; then
    tsmigrate comment --platform "$platform" --marker "$target" --body-file "$md" ||
      { [ "$failed" = 0 ] && failed=1; }
  fi
done <<<"$targets"

exit_code=$failed
[ "$failed" = 0 ] && [ "$changes" = true ] && exit_code=2
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  {
    echo "changes=$changes"
    echo "exit-code=$exit_code"
    echo "report-dir=$out"
    echo "plan-path=$plan_path"
  } >>"$GITHUB_OUTPUT"
fi
echo "tsmigrate: changes=$changes exit-code=$exit_code reports in $out"
exit "$failed"
