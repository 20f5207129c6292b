#!/usr/bin/env bash
# Installs what the sandbox needs from the system: bubblewrap (the preferred isolation)
# and libseccomp. Root installs them; anyone else is told what is missing and why.
set -u
missing=()
command -v bwrap >/dev/null 2>&1 || missing+=(bubblewrap)
ldconfig -p 2>/dev/null | grep -q 'libseccomp\.so' || missing+=(libseccomp2)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing system packages for the sandbox: ${missing[*]}"
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1; then
    apt-get update -qq >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 \
      || echo "warning: could not install ${missing[*]}; bombe falls back to weaker isolation"
  fi
else
  echo "note: ${missing[*]} not installed. bombe's sandbox prefers bubblewrap; without it it"
  echo "      uses user namespaces through unshare. Ask an administrator to install: ${missing[*]}"
fi
exit 0
