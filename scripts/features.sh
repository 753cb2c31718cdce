# shellcheck shell=bash
# The x86_64 feature set the tests build (sourced by the scripts that share their build): both
# inference runtimes, the kiosk's Slint UI drawing without a desktop (its tests render headless),
# and test-faults (`serve --inject-faults`, which the sync tests drive; never in a bundle). CI's
# later steps build with the same set, so they reuse the tests' build instead of making two more.
TEST_FEATURES=kiosk-kms,test-faults,onnx
