package socialcare_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/socialcare-fhir/gateway/fhir"
	"github.com/socialcare-fhir/gateway/fhir/socialcare"
)

func ExampleDecode() {
	body := []byte(`{
	  "schemaVersion": "1.0",
	  "source": {"system": "Example", "organisation": "SYN01", "sentAt": "2025-03-03T10:00:00Z"},
	  "person": {
	    "id": "P1", "author": {"organisation": "SYN01"}, "recorded": "2025-03-03T09:00:00Z",
	    "nhsNumber": "9990000019", "birthDate": "1940-01-01", "gender": "female", "shoeSize": 5
	  }
	}`)
	_, err := socialcare.Decode(body, time.Date(2025, 3, 4, 0, 0, 0, 0, time.UTC))
	var fe *fhir.Error
	if errors.As(err, &fe) {
		fmt.Println(fe.Status)
		for _, is := range fe.Issues {
			fmt.Println(is.Expression[0], "-", is.Code)
		}
	}
	// Output:
	// 422
	// person.shoeSize - structure
	// person.nhsNumber - value
}

func ExampleTranslate() {
	body := []byte(`{
	  "schemaVersion": "1.0",
	  "source": {"system": "Example", "organisation": "SYN01", "sentAt": "2025-03-03T10:00:00Z"},
	  "person": {
	    "id": "P1", "author": {"organisation": "SYN01"}, "recorded": "2025-03-03T09:00:00Z",
	    "nhsNumber": "9990000018", "nhsNumberStatus": "01", "birthDate": "1940-01-01", "gender": "female"
	  }
	}`)
	rec, err := socialcare.Decode(body, time.Date(2025, 3, 4, 0, 0, 0, 0, time.UTC))
	if err != nil {
		fmt.Println(err)
		return
	}
	res, err := socialcare.Translate(rec)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range res {
		fmt.Println(r.Type)
	}
	// Output:
	// Organization
	// Patient
	// Provenance
}
