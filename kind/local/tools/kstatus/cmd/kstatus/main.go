// Command kstatus prints what kstatus (sigs.k8s.io/cli-utils/pkg/kstatus/status, the
// status library of Flux and kpt) computes for Kubernetes objects, so that tests can
// check Cubit's status conventions against the real library rather than a copy of it.
//
//	kubectl get tj,nb -A -o json | kstatus
//	kstatus --expect InProgress obj.yaml
//	kstatus -o json < objs.yaml
//
// Input: JSON or YAML from the files named (or stdin), several documents or JSON values
// one after the other, and List objects (kind List or any kind ending in "List" with
// items, as `kubectl get -o json` prints) are unpacked. For each object it prints one
// line: kind, namespace/name, the status and the message of status.Compute, tab-separated
// (-o json: one JSON object per line).
//
// Exit status: 0; 1 when --expect is given and an object's status is not one of the
// expected ones (each such object is named on stderr); 2 on bad input or usage.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/cli-utils/pkg/kstatus/status"
)

// result is one object's verdict, as printed with -o json.
type result struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	Status    string `json:"status"`
	Message   string `json:"message"`
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("kstatus", flag.ContinueOnError)
	fs.SetOutput(stderr)
	expect := fs.String("expect", "", "comma-separated statuses every object must have (InProgress, Current, Failed, Terminating, Unknown)")
	output := fs.String("o", "text", "output format: text or json")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: kstatus [--expect STATUS[,STATUS...]] [-o text|json] [FILE...]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *output != "text" && *output != "json" {
		fmt.Fprintf(stderr, "kstatus: -o must be text or json, not %q\n", *output)
		return 2
	}
	want, err := parseExpect(*expect)
	if err != nil {
		fmt.Fprintf(stderr, "kstatus: --expect: %v\n", err)
		return 2
	}

	var objs []*unstructured.Unstructured
	if fs.NArg() == 0 {
		if objs, err = readObjects(stdin, "stdin"); err != nil {
			fmt.Fprintf(stderr, "kstatus: %v\n", err)
			return 2
		}
	}
	for _, path := range fs.Args() {
		f, err := os.Open(path)
		if err != nil {
			fmt.Fprintf(stderr, "kstatus: %v\n", err)
			return 2
		}
		more, err := readObjects(f, path)
		f.Close()
		if err != nil {
			fmt.Fprintf(stderr, "kstatus: %v\n", err)
			return 2
		}
		objs = append(objs, more...)
	}
	if len(objs) == 0 {
		fmt.Fprintln(stderr, "kstatus: no objects in the input")
		return 2
	}

	out := bufio.NewWriter(stdout)
	defer out.Flush()
	code := 0
	for _, u := range objs {
		res, err := status.Compute(u)
		if err != nil {
			fmt.Fprintf(stderr, "kstatus: %s %s: %v\n", u.GetKind(), key(u), err)
			return 2
		}
		r := result{Kind: u.GetKind(), Namespace: u.GetNamespace(), Name: u.GetName(),
			Status: res.Status.String(), Message: res.Message}
		if *output == "json" {
			b, err := json.Marshal(r)
			if err != nil {
				fmt.Fprintf(stderr, "kstatus: %v\n", err)
				return 2
			}
			fmt.Fprintf(out, "%s\n", b)
		} else {
			fmt.Fprintf(out, "%s\t%s\t%s\t%s\n", r.Kind, key(u), r.Status, r.Message)
		}
		if want != nil && !want[res.Status] {
			fmt.Fprintf(stderr, "kstatus: %s %s is %s, expected %s: %s\n",
				r.Kind, key(u), r.Status, *expect, r.Message)
			code = 1
		}
	}
	return code
}

// parseExpect turns "InProgress,Failed" into a set; "" means no expectation (nil).
func parseExpect(s string) (map[status.Status]bool, error) {
	if s == "" {
		return nil, nil
	}
	want := map[status.Status]bool{}
	for _, name := range strings.Split(s, ",") {
		st, ok := knownStatus(strings.TrimSpace(name))
		if !ok {
			return nil, fmt.Errorf("unknown status %q (one of %v)", name, status.Statuses)
		}
		want[st] = true
	}
	return want, nil
}

func knownStatus(name string) (status.Status, bool) {
	for _, st := range status.Statuses {
		if string(st) == name {
			return st, true
		}
	}
	return "", false
}

func key(u *unstructured.Unstructured) string {
	if u.GetNamespace() == "" {
		return u.GetName()
	}
	return u.GetNamespace() + "/" + u.GetName()
}

// readObjects decodes every JSON or YAML document of r, unpacking Lists. Empty YAML
// documents are skipped; anything that is not an object with apiVersion and kind is
// an error naming the input and the document's position.
func readObjects(r io.Reader, name string) ([]*unstructured.Unstructured, error) {
	dec := utilyaml.NewYAMLOrJSONDecoder(bufio.NewReader(r), 4096)
	var objs []*unstructured.Unstructured
	for doc := 1; ; doc++ {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			if errors.Is(err, io.EOF) {
				return objs, nil
			}
			return nil, fmt.Errorf("%s: document %d: %w", name, doc, err)
		}
		if len(raw) == 0 || string(raw) == "null" {
			continue
		}
		// UnmarshalJSON keeps integers as int64, as the API machinery does: kstatus
		// reads metadata.generation and status.observedGeneration as int64.
		u := &unstructured.Unstructured{}
		if err := u.UnmarshalJSON(raw); err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", name, doc, err)
		}
		more, err := unpack(u)
		if err != nil {
			return nil, fmt.Errorf("%s: document %d: %w", name, doc, err)
		}
		objs = append(objs, more...)
	}
}

func unpack(u *unstructured.Unstructured) ([]*unstructured.Unstructured, error) {
	if u.GetKind() == "" || u.GetAPIVersion() == "" {
		return nil, errors.New("not a Kubernetes object: apiVersion and kind are required")
	}
	if !u.IsList() {
		return []*unstructured.Unstructured{u}, nil
	}
	list, err := u.ToList()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", u.GetKind(), err)
	}
	var objs []*unstructured.Unstructured
	for i := range list.Items {
		more, err := unpack(&list.Items[i])
		if err != nil {
			return nil, fmt.Errorf("%s item %d: %w", u.GetKind(), i, err)
		}
		objs = append(objs, more...)
	}
	return objs, nil
}
