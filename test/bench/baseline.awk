# The script an SRE writes at 3 a.m. instead of reset-doctor: count upstream
# errors per signature and peer. The bench runs it with LC_ALL=C awk on the
# same file as the baseline to beat.
/upstream|too large body/ {
  sig = "other-upstream"
  if ($0 ~ /Connection refused/) sig = "refused"
  else if ($0 ~ /No such file or directory\) while connecting/) sig = "socket-missing"
  else if ($0 ~ /Permission denied\) while connecting/) sig = "permission-denied"
  else if ($0 ~ /connect\(\) .*failed/) sig = "connect-failed"
  else if ($0 ~ /upstream timed out/) {
    if ($0 ~ /while connecting/) sig = "timeout-connect"
    else if ($0 ~ /while sending request/) sig = "timeout-send"
    else if ($0 ~ /while reading response header/) sig = "timeout-read"
    else sig = "timeout-body"
  }
  else if ($0 ~ /failed \((104|32):/) {
    if ($0 ~ /while sending request/) sig = "reset-sending-request"
    else if ($0 ~ /while reading response header/) sig = "reset-reading-header"
    else sig = "reset-reading-body"
  }
  else if ($0 ~ /prematurely closed connection while reading response header/) sig = "premature-close-header"
  else if ($0 ~ /prematurely closed connection/) sig = "premature-close-body"
  else if ($0 ~ /too big header/) sig = "too-big-header"
  else if ($0 ~ /invalid header|no valid HTTP/) sig = "invalid-header"
  else if ($0 ~ /no live upstreams/) sig = "no-live-upstreams"
  else if ($0 ~ /temporarily disabled/) sig = "server-disabled"
  else if ($0 ~ /too large body/) sig = "body-too-large"
  peer = "-"
  if (match($0, /upstream: "[a-z]+:\/\/(unix:[^:"]*|[^\/"]*)/)) {
    peer = substr($0, RSTART + 11, RLENGTH - 11)
    sub(/^[a-z]+:\/\//, "", peer)
  }
  count[sig " " peer]++
}
END { for (k in count) print count[k], k }
