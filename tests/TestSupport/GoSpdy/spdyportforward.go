// spdyportforward forwards one connection per given port through a CriOci port-forward session
// over SPDY/3.1 with github.com/docker/spdystream, as client-go's portforward does: per
// connection an error stream (half-closed at once, the client never writes to it) and a data
// stream with the same port and requestID headers, all pairs at the same time. Each pair sends
// "hello <port>", half-closes, and reads both streams to their FIN. Prints a JSON array of
// {"port","data","error"}.
//
// Usage: spdyportforward <url> <port>...
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
	"strconv"
	"sync"

	"github.com/docker/spdystream"
)

type result struct {
	Port  string `json:"port"`
	Data  string `json:"data"`
	Error string `json:"error"`
}

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
	conn, err := net.Dial("tcp", target.Host)
	if err != nil {
		return err
	}
	request, _ := http.NewRequest("POST", target.String(), nil)
	request.Header.Set("Connection", "Upgrade")
	request.Header.Set("Upgrade", "SPDY/3.1")
	request.Header.Add("X-Stream-Protocol-Version", "portforward.k8s.io")
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
	spdy, err := spdystream.NewConnection(conn, false)
	if err != nil {
		return err
	}
	go spdy.Serve(spdystream.NoOpStreamHandler)
	defer spdy.Close()

	// Streams are created one pair after another (ids must grow), then all pairs run at once.
	ports := os.Args[2:]
	type pair struct{ errorStream, dataStream *spdystream.Stream }
	pairs := make([]pair, len(ports))
	for i, port := range ports {
		headers := http.Header{}
		headers.Set("streamType", "error")
		headers.Set("port", port)
		headers.Set("requestID", strconv.Itoa(i))
		errorStream, err := spdy.CreateStream(headers, nil, false)
		if err != nil {
			return err
		}
		if err := errorStream.Wait(); err != nil {
			return err
		}
		errorStream.Close()
		headers.Set("streamType", "data")
		dataStream, err := spdy.CreateStream(headers, nil, false)
		if err != nil {
			return err
		}
		if err := dataStream.Wait(); err != nil {
			return err
		}
		pairs[i] = pair{errorStream, dataStream}
	}

	results := make([]result, len(ports))
	var wait sync.WaitGroup
	for i := range ports {
		wait.Add(1)
		go func(i int) {
			defer wait.Done()
			p := pairs[i]
			p.dataStream.Write([]byte("hello " + ports[i]))
			p.dataStream.Close()
			data, _ := io.ReadAll(p.dataStream)
			message, _ := io.ReadAll(p.errorStream)
			results[i] = result{Port: ports[i], Data: string(data), Error: string(message)}
		}(i)
	}
	wait.Wait()
	return json.NewEncoder(os.Stdout).Encode(results)
}
