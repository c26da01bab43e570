// spdyexec drives one CriOci exec session over SPDY/3.1 with github.com/docker/spdystream,
// the SPDY library kubelet, kubectl and crictl use (client-go's httpstream/spdy wraps it), the
// way client-go's remotecommand v4 client does: upgrade, open error/stdin/stdout/stderr
// streams, copy stdin and half-close it, read the outputs and the error stream to their FIN.
// It prints {"stdout":...,"stderr":...,"error":...} as JSON.
//
// Usage: spdyexec <url> <protocol> [stdin text]
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sync"

	"github.com/docker/spdystream"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run() error {
	target, err := url.Parse(os.Args[1])
	if err != nil {
		return err
	}
	protocol := os.Args[2]
	conn, err := net.Dial("tcp", target.Host)
	if err != nil {
		return err
	}
	request, _ := http.NewRequest("POST", target.String(), nil)
	request.Header.Set("Connection", "Upgrade")
	request.Header.Set("Upgrade", "SPDY/3.1")
	request.Header.Add("X-Stream-Protocol-Version", protocol)
	if err := request.Write(conn); err != nil {
		return err
	}
	response, err := http.ReadResponse(bufio.NewReader(conn), request)
	if err != nil {
		return err
	}
	if response.StatusCode != http.StatusSwitchingProtocols {
		return fmt.Errorf("upgrade refused: %s", response.Status)
	}
	if got := response.Header.Get("X-Stream-Protocol-Version"); got != protocol {
		return fmt.Errorf("negotiated %q, asked for %q", got, protocol)
	}

	spdy, err := spdystream.NewConnection(conn, false)
	if err != nil {
		return err
	}
	go spdy.Serve(spdystream.NoOpStreamHandler)
	defer spdy.Close()

	open := func(streamType string) (*spdystream.Stream, error) {
		headers := http.Header{}
		headers.Set("streamType", streamType)
		stream, err := spdy.CreateStream(headers, nil, false)
		if err != nil {
			return nil, err
		}
		return stream, stream.Wait()
	}
	errorStream, err := open("error")
	if err != nil {
		return err
	}
	withStdin := len(os.Args) > 3
	var stdin *spdystream.Stream
	if withStdin {
		if stdin, err = open("stdin"); err != nil {
			return err
		}
	}
	stdout, err := open("stdout")
	if err != nil {
		return err
	}
	stderr, err := open("stderr")
	if err != nil {
		return err
	}
	if withStdin {
		if _, err := stdin.Write([]byte(os.Args[3])); err != nil {
			return err
		}
		stdin.Close()
	}

	var wait sync.WaitGroup
	var out, errOut []byte
	var outErr, errErr error
	wait.Add(2)
	go func() { defer wait.Done(); out, outErr = io.ReadAll(stdout) }()
	go func() { defer wait.Done(); errOut, errErr = io.ReadAll(stderr) }()
	status, statusErr := io.ReadAll(errorStream)
	wait.Wait()
	for _, e := range []error{outErr, errErr, statusErr} {
		if e != nil {
			return e
		}
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]string{
		"stdout": string(out), "stderr": string(errOut), "error": string(status),
	})
}
