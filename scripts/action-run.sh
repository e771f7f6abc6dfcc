#!/usr/bin/env bash
# The run step of the GitHub Action (action.yml), kept here so it can be tested
# (tests/it/install.rs runs it against --embedded). Inputs come as environment variables:
#   SCIMITAR        the command to run scimitar (default: scimitar; the action sets
#                   "docker run … scimitar" when it uses the image)
#   INPUT_URL       the SCIM base URL (or empty with INPUT_EMBEDDED=true)
#   INPUT_EMBEDDED  "true": run against the built-in reference server
#   INPUT_IDP       IdP profiles, space- or comma-separated (empty: every suite)
#   INPUT_CERTIFY   a programme (entra-gallery, okta-oin): run `scimitar certify` instead
#   INPUT_OUT       the folder for the reports (default: scimitar-reports)
#   INPUT_ARGS      more arguments, split on spaces (e.g. "--strict --token-env MY_TOKEN")
# Credentials are never inputs: SCIM_TOKEN (or the variable named with --token-env, or
# --client-secret-env) comes from the step's env, from the repository's secrets.
# Writes the Markdown report to $GITHUB_STEP_SUMMARY when set, and the exit code to
# $GITHUB_OUTPUT as exit-code (with junit and reports, the paths); exits with scimitar's exit code.
set -uo pipefail

read -r -a cmd <<<"${SCIMITAR:-scimitar}"
out="${INPUT_OUT:-scimitar-reports}"
mkdir -p "$out"

args=()
if [ -n "${INPUT_CERTIFY:-}" ]; then
  args+=(certify "$INPUT_CERTIFY" --out "$out")
else
  args+=(run --junit "$out/junit.xml" --json "$out/scim.json"
    --report "$out/scim-report.html" --report "$out/scim-report.md")
  idps="${INPUT_IDP:-}"
  for idp in ${idps//,/ }; do
    args+=(--idp "$idp")
  done
fi
if [ "${INPUT_EMBEDDED:-false}" = "true" ]; then
  args+=(--embedded)
elif [ -n "${INPUT_URL:-}" ]; then
  args+=(--url "$INPUT_URL")
fi
if [ -n "${INPUT_ARGS:-}" ]; then
  read -r -a extra <<<"$INPUT_ARGS"
  args+=("${extra[@]}")
fi

echo "scimitar ${args[*]}" >&2
"${cmd[@]}" "${args[@]}"
code=$?

summary="$out/scim-report.md"
junit="$out/junit.xml"
if [ -n "${INPUT_CERTIFY:-}" ]; then
  summary="$out/certify-$INPUT_CERTIFY.md"
  junit="$out/certify-$INPUT_CERTIFY.junit.xml"
fi
if [ -n "${GITHUB_STEP_SUMMARY:-}" ] && [ -f "$summary" ]; then
  cat "$summary" >>"$GITHUB_STEP_SUMMARY"
fi
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  {
    echo "exit-code=$code"
    echo "junit=$junit"
    echo "reports=$out"
  } >>"$GITHUB_OUTPUT"
fi
exit "$code"
