"""FAQ pages: per topic, intents that pair question phrasings with the sentences that answer them.

Slots: days price carrier country hours n product noun brand accessory device version weekday shop.
Policy topics repeat on many pages, so their answers quote a worked example naming a product; with the
slots that keeps pairs far apart in word 3-gram Jaccard.
"""

from __future__ import annotations

from dataclasses import dataclass

from llmops.sample_data.grammar import Template, templates


@dataclass(frozen=True)
class Intent:
    questions: tuple[Template, ...]
    answers: tuple[Template, ...]  # an answer uses two of these
    steps: tuple[Template, ...] = ()  # list items (<ol>/<ul>) an answer may add, in this order


@dataclass(frozen=True)
class Topic:
    title: str
    intents: tuple[Intent, ...]
    examples: tuple[Template, ...] = ()  # policy topics: a worked example naming a product


def _intent(questions: tuple[str, ...], answers: tuple[str, ...], steps: tuple[str, ...] = ()) -> Intent:
    return Intent(templates(*questions), templates(*answers), templates(*steps))


POLICY_TOPICS = {
    "shipping": Topic(
        "Shipping &amp; delivery",
        (
            _intent(
                ("How long does [standard|express|next-day] delivery to {country} take?",),
                (
                    "[Standard|Regular] delivery to {country} takes {days} working days, [express|priority] "
                    "[arrives|gets there] in [one to two|two] days.",
                    "Orders placed before {hours}:00 [ship|leave our warehouse] the same day[, weekends excluded|].",
                ),
                (
                    "Track the parcel with the link in your confirmation e-mail",
                    "Pick a delivery day at checkout",
                ),
            ),
            _intent(
                ("Can I change the delivery address after [ordering|my order has shipped]?",),
                (
                    "You can [change|update] the address [in your account|on the order page] [until the "
                    "parcel|as "
                    "long as the order] [is handed to|has not reached] {carrier}.",
                    "[Once|After] the parcel [ships|has left], [ask|contact] {carrier} [to redirect it|for a "
                    "redirection] with the tracking number from your e-mail.",
                ),
                (
                    "Open the order in your account",
                    "[Ask|Tell] {carrier} to [redirect|hold] the parcel",
                ),
            ),
            _intent(
                ("Which carriers deliver [{noun}|large|heavy] orders to {country}?",),
                (
                    "[Most|Small] orders to {country} travel with {carrier} and arrive in {days} working days.",
                    "[Bulky items|Large items such as TVs] go with a [freight|two-person] service that "
                    "[calls|phones] "
                    "you [the day before|to book a slot].",
                ),
            ),
            _intent(
                ("Do you deliver to [parcel lockers|pickup points|PO boxes] in {country}?",),
                (
                    "Yes, {carrier} [delivers to|serves] [lockers|pickup points] in {country} for parcels "
                    "under "
                    "{n}0 kg; [choose|pick] one at checkout.",
                    "[PO boxes|Post office boxes] only take [small parcels|letters], so [TVs and "
                    "monitors|large "
                    "items] always go to [a street address|your door].",
                ),
                (
                    "Choose a [locker|pickup point] near you at checkout",
                    "Collect the parcel within {days} days",
                ),
            ),
            _intent(
                (
                    "What happens if I miss the {carrier} delivery?",
                    "[Nobody was home|I was out], where is my parcel?",
                ),
                (
                    "{carrier} [tries|attempts] delivery [twice|up to three times] and then [keeps the "
                    "parcel|holds "
                    "it] at the nearest [pickup point|depot] for {days} days.",
                    "[A card|A notice] in your letterbox or an e-mail from {carrier} [tells you|says] where "
                    "[to "
                    "collect it|the parcel is waiting].",
                ),
                (
                    "Keep your phone nearby on delivery day",
                    "[Ask|Tell] {carrier} to [redirect|hold] the parcel",
                ),
            ),
            _intent(
                ("[Is|Why is] shipping [free|not free] for orders under {price}?",),
                (
                    "Shipping is free [above|for orders over] {price}; below that we charge a flat "
                    "[fee|rate] "
                    "[that you see at checkout|shown in the basket].",
                    "[Members|Customers with a {shop} Plus account] get free shipping on [every order|all "
                    "orders] "
                    "[from the first cent|with no minimum].",
                ),
            ),
        ),
        templates(
            "For example, [a|the] {product} ordered [on|before noon on] {weekday} [usually |]reaches "
            "{country} "
            "[within {days} days|by {weekday}] with {carrier}.",
            "[A typical order|An order] such as the {product} ({price}) [ships|travels] with {carrier} and "
            "can be "
            "tracked [from the moment it leaves|once it leaves] our warehouse.",
        ),
    ),
    "returns": Topic(
        "Returns &amp; refunds",
        (
            _intent(
                ("How many days do I have to return [a|an opened|a used] {noun}?",),
                (
                    "You [have|get] {days} days from delivery to return [any item|most items], [opened or "
                    "not|even "
                    "if opened].",
                    "[Opened|Used] items [must|should] come back [with all accessories|in the original box] "
                    "[to get the full refund|for a full refund].",
                ),
                (
                    "Open Orders in your account",
                    "Select the item and [the reason|a reason] for the return",
                    "Pack the item with all accessories",
                    "Keep the drop-off receipt until the refund arrives",
                ),
            ),
            _intent(
                ("Is the return [free|paid] when I send back [a|the] {noun} from {country}?",),
                (
                    "Returns from {country} are [free|free of charge] with the prepaid {carrier} label[ from "
                    "your "
                    "account|].",
                    "[Only|Just] [bulky items|large items] need a [collection|pickup], which we "
                    "[book|arrange] "
                    "[for you|free of charge] within {days} days.",
                ),
            ),
            _intent(
                ("When do I get my [money|refund] back [after a return|for a returned {noun}]?",),
                (
                    "[The refund|Your refund] is [issued|sent] within {days} days after the parcel "
                    "[reaches|arrives "
                    "at] our warehouse.",
                    "[Banks|Card issuers] need [another|up to] {n} working days to show the refund on your statement.",
                ),
            ),
            _intent(
                ("Can I return [an item|a {noun}] [bought in a sale|without the original box|that was a gift]?",),
                (
                    "[Sale items|Discounted items] follow the same [rules|return policy]; [gifts|presents] "
                    "are "
                    "refunded as a voucher[ to the recipient|].",
                    "[Without the box|Without the original packaging], pack the {noun} [safely|in any sturdy "
                    "box]; "
                    "we may deduct [a small fee|up to {n}0 percent] for missing parts.",
                ),
            ),
            _intent(
                ("How do I [print|get] a return label for {carrier}?",),
                (
                    "[Open|Go to] Orders in your account, [choose|select] the item and [click|press] Return "
                    "to "
                    "[print|download] the {carrier} label.",
                    "No printer? [Show|Use] the QR code at any {carrier} point and they print the label for you.",
                ),
                (
                    "Open Orders in your account",
                    "Select the item and [the reason|a reason] for the return",
                    "Print the label or show the QR code at a {carrier} point",
                ),
            ),
        ),
        templates(
            "For example, [returning|sending back] [a|the] {product} bought for {price} [gets you|means] the "
            "full "
            "{price} back [within {days} days|once it arrives].",
            "[Say|Suppose] you [return|send back] the {product} from {country}: [print the {carrier} "
            "label|drop "
            "it at a {carrier} point] and [track the refund|watch the status] in your account.",
        ),
    ),
    "warranty": Topic(
        "Warranty &amp; repairs",
        (
            _intent(
                ("How long is the warranty on [a|my] {noun}?",),
                (
                    "Every {noun} comes with a [two-year|24-month] warranty[, extendable to {n} years|].",
                    "The warranty [starts|runs from] the [delivery date|day of delivery] on your invoice, "
                    "[not|and "
                    "not] the order date.",
                ),
            ),
            _intent(
                ("Does the warranty cover [water damage|a cracked screen|battery wear] on the {noun}?",),
                (
                    "[Accidental damage|Water damage and cracked screens] [is|are] not covered, "
                    "[but|however] we "
                    "offer [paid repairs|a repair quote] [at fair prices|within {days} days].",
                    "[Batteries|The battery] [is|are] covered [if capacity drops below|when it holds less "
                    "than] "
                    "{n}0 percent [within the warranty period|in the first year].",
                ),
            ),
            _intent(
                ("How do I [register|claim] the [warranty|extended warranty] for a {brand} product?",),
                (
                    "[Register|Claim] it in your account under Warranty with the serial number and the "
                    "[invoice|"
                    "order number]; it takes [about {n} minutes|a few minutes].",
                    "{brand} [also |]accepts claims [directly|on its own site], but [going through us|our "
                    "repair "
                    "service] is [usually |]faster.",
                ),
                (
                    "Find the serial number on the box or under the device",
                    "Describe the fault in a few words",
                    "Attach a copy of the invoice",
                    "Wait for the prepaid {carrier} label",
                ),
            ),
            _intent(
                ("[Who pays|Do I pay] for shipping when I send a {noun} for repair?",),
                (
                    "We [pay|cover] shipping both ways [for warranty claims|when the fault is covered].",
                    "[Outside the warranty|For paid repairs], shipping costs a flat {price} [each way|in total].",
                ),
                (
                    "[Back up|Save] your data before sending the device",
                    "Pack the device in its original box",
                    "Wait for the prepaid {carrier} label",
                ),
            ),
            _intent(
                ("How long does a warranty repair [take|usually take]?",),
                (
                    "[Repairs|A repair] [take|takes] [about|roughly] {days} working days [plus shipping|from arrival].",
                    "If the {noun} cannot be [repaired|fixed] [within {days} days|in time], we [send|ship] a "
                    "[replacement|new one] instead.",
                ),
            ),
        ),
        templates(
            "For example, the {product} is covered for [two years|24 months] and [a battery fault|a dead "
            "pixel|a "
            "broken port] is [repaired|fixed] [within {days} working days|free of charge].",
            "[Claims|A claim] for the {product} [need|needs] the serial number and the invoice of {price} "
            "[from "
            "your account|as a PDF].",
        ),
    ),
    "payments": Topic(
        "Payments &amp; invoices",
        (
            _intent(
                ("Which payment methods [do you accept|can I use] in {country}?",),
                (
                    "We accept [cards, PayPal and bank transfer|cards and PayPal|most cards and wallets] [in "
                    "{country}|for all orders].",
                    "[Gift cards|Vouchers] [can be combined|work together] with [any other method|a card] at checkout.",
                ),
            ),
            _intent(
                ("[Can|May] I pay [in instalments|by invoice|with a gift card] for orders over {price}?",),
                (
                    "[Instalments|Paying in instalments] [is|are] available [above|for orders over] {price} "
                    "[with "
                    "no fees|over {n} months].",
                    "[Invoice payment|Paying by invoice] gives you {days} days [to pay|after delivery] "
                    "[after a quick "
                    "credit check|for orders up to {price}].",
                ),
            ),
            _intent(
                ("Why was my card charged [twice|before shipping]?",),
                (
                    "[A second charge|A duplicate] is [usually|normally] a [pending authorisation|card hold] "
                    "[that "
                    "disappears|that is released] within {days} days.",
                    "We [only capture|take] the payment [when the parcel ships|on the day of dispatch]; the "
                    "hold "
                    "[before that|until then] is not a charge.",
                ),
                (
                    "Check the payment status on the order page",
                    "Contact your bank if the hold stays",
                ),
            ),
            _intent(
                ("Where do I find the invoice for [my order|a {noun} I bought]?",),
                (
                    "The invoice [is attached to|comes with] the shipping e-mail and [stays|is also] [in "
                    "your "
                    "account|under Orders].",
                    "[Business customers|Companies] can add a VAT number [in the account settings|at "
                    "checkout] "
                    "[to get|and receive] a [VAT invoice|tax invoice].",
                ),
                (
                    "Open Orders in your account",
                    "Click Download invoice",
                ),
            ),
        ),
        templates(
            "For example, the {product} at {price} can be paid [in {n} monthly instalments|by card or "
            "PayPal|by "
            "invoice within {days} days].",
            "[An order|A purchase] of {price} [such as the {product}|for the {product}] [shows|appears] on "
            "your "
            "statement as {shop} [within {hours} hours|the same day].",
        ),
    ),
}

PRODUCT_TITLES = templates(
    "{product}: [help|questions] &amp; answers",
    "{product} &ndash; FAQ",
    "Help centre: {product}",
    "Getting started with the {product}",
)
PRODUCT_TOPIC = Topic(
    "",
    (
        _intent(
            (
                "How do I [reset|restart|factory reset] the {product}?",
                "My {product} [froze|is stuck|does not respond], how do I reset it?",
            ),
            (
                "[Hold|Press and hold] the [power|reset] button for {n} seconds [until the light "
                "blinks|until you "
                "hear a tone|while the {noun} is charging].",
                "A factory reset [erases|removes] [all settings|paired devices|your Wi-Fi details]; [back "
                "up|note "
                "down] [your settings|anything important] [first|before you start].",
                "If the {noun} still [does not respond|stays dark], [charge it for {n}0 minutes|leave it "
                "unplugged "
                "for {n} minutes] and try again.",
            ),
            (
                "Unplug the {noun} and wait {n} seconds",
                "Hold the [power|reset] button until the light blinks",
                "Set the {noun} up again in the {brand} app",
            ),
        ),
        _intent(
            (
                "How do I [pair|connect] the {product} with my {device}?",
                "Why does my {device} not [find|see] the {product}?",
            ),
            (
                "Open the {brand} app on your {device}, [go to|tap] [Add device|Devices] and [follow the "
                "steps|choose "
                "the {noun}].",
                "[Hold|Press] the pairing button for {n} seconds until the light [blinks blue|flashes], then "
                "select "
                "the {noun} [in the Bluetooth list|in the app].",
                "[If pairing fails|Still not found]? Remove the {noun} from the [Bluetooth list|paired "
                "devices] on "
                "your {device} and [restart both|try again].",
            ),
            (
                "Turn on Bluetooth on your {device}",
                "Hold the pairing button until the light blinks",
                "Select the {noun} in the list",
                "Confirm the pairing request",
            ),
        ),
        _intent(
            (
                "How do I update the firmware of the {product}[ to {version}|]?",
                "What is new in firmware {version} for the {product}?",
            ),
            (
                "Firmware {version} [adds|brings] [better battery life|a more stable connection|new "
                "settings] and "
                "installs [automatically|overnight] when the {noun} is [charging|connected to Wi-Fi].",
                "To update [by hand|manually], open the {brand} app and [tap|choose] [Check for "
                "updates|Firmware]; "
                "keep the {noun} [close to your {device}|plugged in] for about {n} minutes.",
            ),
            (
                "Install the latest {brand} app",
                "Keep the {noun} close to the router",
                "Check for firmware {version}",
                "Restart the {noun} when asked",
            ),
        ),
        _intent(
            ("[Why does|What should I do when] the {product} [not turn on|keep restarting|not charge]?",),
            (
                "[Charge|Let] the {noun} [for at least|for] {n}0 minutes [before the first use|after a deep "
                "discharge]; a [blinking|flashing] light means [it is charging|the battery is very low].",
                "Try [another cable|a different power adapter|a wall outlet instead of a USB port]: "
                "[many|most] "
                "charging problems [come from|are caused by] [worn cables|weak adapters].",
                "If the {noun} [restarts|shuts down] [again and again|every few minutes], [reset it|update "
                "it to "
                "{version}] and [contact us|open a warranty case] if that does not help.",
            ),
            (
                "Unplug the {noun} and wait {n} seconds",
                "Try another cable and outlet",
                "Charge it for {n}0 minutes",
                "Restart your {device}",
            ),
        ),
        _intent(
            ("How do I clean the {product} [safely|without damaging it]?",),
            (
                "[Wipe|Clean] the {noun} with a [dry|slightly damp] cloth; [never|do not] use "
                "[alcohol|solvents|"
                "compressed air] [on the ports|near the openings].",
                "[Dust|Dirt] in the [ports|grilles|vents] comes out with a [soft brush|dry toothbrush]; "
                "[let|allow] "
                "the {noun} dry for {n} hours if it got wet.",
            ),
        ),
        _intent(
            ("What is [in the box|included] with the {product}?",),
            (
                "The box [contains|includes] the {noun}, the {accessory} and a quick start guide.",
                "[Chargers|Power adapters] are [sold separately|not included] for this model[; any {n}0 W "
                "USB-C "
                "charger works|].",
            ),
        ),
        _intent(
            ("How [long|many hours] does the {product} [last|run] on a [full charge|charge]?",),
            (
                "[Battery life|Runtime] is [about|up to] {hours} hours [at medium volume|with default "
                "settings|in "
                "normal use][, less with the lights on|].",
                "A full charge takes [about|roughly] {n} hours with the {accessory}[ or a fast charger|].",
            ),
        ),
        _intent(
            ("[Where|How] do I find the serial number of my {product}?",),
            (
                "[The serial number|It] is [printed on a sticker|on the label] [under the {noun}|inside the "
                "cover|on "
                "the original box].",
                "You also find it in the {brand} app under [Settings, About|Device info] once the {noun} is "
                "[paired|connected].",
            ),
        ),
        _intent(
            ("Why is the {product} [so warm|getting hot|blinking [red|orange]]?",),
            (
                "[Slight warmth|Some warmth] [while charging|under load] is normal; [stop using it|unplug "
                "it] if it "
                "[gets too hot to touch|smells of burning].",
                "A [red|orange] light [means|shows] [a charging error|an overheated battery]; [let|leave] "
                "the {noun} "
                "cool down for {n}0 minutes [before you charge it again|and then restart it].",
            ),
        ),
        _intent(
            ("Is the {product} compatible with [my {device}|the {brand} app|older models]?",),
            (
                "The {noun} works with [most|all current] [phones|devices] including the {device}[, older "
                "models "
                "may need an update|].",
                "[Some features|A few settings] need the {brand} app version {version} or newer.",
            ),
        ),
        _intent(
            ("Can I use the {product} [with two devices|while it charges|abroad]?",),
            (
                "[Yes|Yes, you can]: the {noun} [remembers|stores] up to {n} devices and switches "
                "[automatically|when "
                "you press the button twice].",
                "[Abroad|In other countries], use a [plug adapter|travel adapter] with the {accessory}; the "
                "{noun} "
                "accepts 100 to 240 volts.",
            ),
        ),
        _intent(
            ("How do I [turn off|dim] the [status light|indicator light|sounds] on the {product}?",),
            (
                "In the {brand} app, open [Settings|Device settings] and [switch off|turn down] [Status "
                "light|"
                "Sounds|Notifications].",
                "[Without the app|Without a phone], [press the button {n} times|hold the volume keys for {n} "
                "seconds] to [dim|mute] the {noun}.",
            ),
        ),
    ),
)
NOTES = templates(
    "[Still stuck?|Need more help?] [Our support team|We] [answer|reply] within {hours} hours[ on weekdays|].",
    "[Tip|Good to know]: [keep|store] the original box for [returns|warranty claims] for {days} days.",
    "This answer applies to [all|current] {brand} [models|devices] [sold since|from] {version}.",
    "[Last updated|Reviewed] on {weekday} by the {shop} help team[ in {country}|].",
)
NAV_LINKS = ("Home", "Shop", "Deals", "Help centre", "Track order", "Returns", "Contact", "My account")
FOOTER_HEADINGS = ("Need more help?", "Customer service", "About us", "Stay in touch")
