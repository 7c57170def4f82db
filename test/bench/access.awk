# The script an SRE writes at 3 a.m. instead of reset-doctor for an access
# log in the lab's format ($remote_addr [$time_local] "$request" $status …):
# requests per status and route (the path's first two segments). The bench
# runs it with LC_ALL=C awk on the same file as the baseline to beat.
{
  path = $5
  sub(/[?#].*/, "", path)
  n = split(path, part, "/")
  route = "/" part[2]
  if (n > 2) route = route "/" part[3]
  count[$7 " " route]++
}
END { for (k in count) print count[k], k }
