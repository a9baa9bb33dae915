#!/bin/sh
# Starts code-server for the in-cluster workbench (the image's entrypoint; arguments go to code-server
# unchanged, and so does the environment, e.g. PASSWORD for --auth=password).
#
# It replaces the base image's entrypoint, which runs fixuid and sudo: a pod without privilege
# escalation cannot use them. It prepares nothing for signing in: the extension itself uses the pod's
# ServiceAccount (the mounted token and CA) and lists it as the cluster "in-cluster".
# CODE_SERVER defaults to the image's code-server; the tests point it elsewhere.
set -eu

exec "${CODE_SERVER:-/usr/bin/code-server}" "$@"
