#!/bin/sh
# A tiny HTTP responder in perl-base (present in every Debian image); it listens on $PORT.
set -eu
exec perl -MIO::Socket::INET -e '
  $SIG{TERM} = sub { exit 0 };
  my $s = IO::Socket::INET->new(LocalPort => ($ENV{PORT} || 8080), Listen => 16, ReuseAddr => 1) or die $!;
  while (my $c = $s->accept) {
    while (<$c>) { last if /^\r?$/ }
    print $c "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nhello from shell-script\n";
    close $c;
  }'
