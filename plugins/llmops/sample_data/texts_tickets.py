"""English support-ticket text: per issue category, the customer's side and the agent's side.

Slots every template may use: product noun order date days price price2 color color2 accessory
device carrier tracking hours brand version n credit weekday other_product.
"""

from __future__ import annotations

from dataclasses import dataclass

from llmops.sample_data.grammar import Template, templates


@dataclass(frozen=True)
class Category:
    name: str
    subject: tuple[Template, ...]
    problem: tuple[Template, ...]
    detail: tuple[Template, ...]
    ask: tuple[Template, ...]
    action: tuple[Template, ...]
    resolution: tuple[Template, ...]
    needs: str = ""  # "battery" or "wireless": only for products that have one


CATEGORIES = (
    Category(
        "damaged",
        templates(
            "[Damaged|Broken|Cracked] {noun} [on arrival|out of the box|in the parcel]",
            "Order {order} arrived damaged",
            "[My|The] {noun} [is|was] damaged [in transit|on delivery]",
        ),
        templates(
            "[I|We] [received|got|unpacked] [my|the] {product} [today|yesterday|on {date}] and the "
            "[screen|casing|housing|corner|lid] [is cracked|is dented|has a deep scratch|is chipped].",
            "The box [looked fine|was soaked|was crushed on one side|had a hole in it] but the {noun} inside "
            "[is broken|rattles when I shake it|has a cracked [panel|hinge|frame]].",
            "[Unfortunately|Sadly|To my surprise] the {product} from order {order} [arrived|came] "
            "[damaged|in pieces|with a bent [stand|frame|port|connector]].",
        ),
        templates(
            "[The|Its] {accessory} [is also [bent|missing|scratched]|seems fine though|was loose in the box].",
            "I [took|have] photos of the [box|packaging|damage] [if you need them|and can send them|right "
            "after "
            "opening it].",
            "The courier [left it|dropped it off|threw it] [at the door|over the fence|with a neighbour] "
            "[in the rain|without knocking|on {weekday}].",
        ),
        templates(
            "[Can|Could] you send a [replacement|new one] [as soon as possible|before the weekend|right away]?",
            "I would like a [replacement|full refund][, please| as soon as you can|].",
            "[What do I need to do|How do I proceed|What are my options] to get this [replaced|sorted out|fixed]?",
        ),
        templates(
            "I have [arranged|created|booked] a [free |]replacement [for order {order}|for your {noun}] and "
            "it "
            "[ships|will ship|goes out] [within {hours} hours|tomorrow|today].",
            "[Please|Could you] [upload|send us|reply with] [a photo|two photos|pictures] of the [damage|box "
            "and "
            "the label] so [we can|I can] [file a claim with {carrier}|start the replacement|approve the "
            "return].",
            "[Damage in transit|A parcel that arrives like this] is on us: [keep the box|do not throw the "
            "box "
            "away] until {carrier} [collects it|picks it up] on {weekday}, and the new {noun} [ships|goes "
            "out] "
            "the same day.",
        ),
        templates(
            "Replacement {noun} shipped [via {carrier}|with express delivery|the same day].",
            "Refund of {price} issued after photos [were received|arrived].",
            "Carrier claim filed with {carrier}; [customer|the customer] received a replacement.",
        ),
    ),
    Category(
        "late_delivery",
        templates(
            "Where is my order {order}?",
            "[Delivery|Package|Parcel] [late|delayed|not arrived]",
            "{noun} still not delivered",
            "Tracking [stuck|not updating] for {order}",
        ),
        templates(
            "[My|The] order {order} was [supposed|meant|due] to arrive [on {date}|{days} days ago|last "
            "{weekday}] "
            "but [it still has not arrived|nothing has come|I am still waiting].",
            "The tracking number {tracking} [has not updated|shows no movement|still says in transit] "
            "[for {days} days|since {date}|since last {weekday}].",
            "{carrier} [says|claims|marked] [the parcel|my package|it] [was delivered|was handed to a "
            "neighbour|is at a pickup point] but [I never got it|there is nothing here|nobody has it].",
        ),
        templates(
            "[I paid|We paid] for [express|next-day|priority] shipping [so this is frustrating|and it is now "
            "late|for a reason].",
            "[None of my neighbours|Nobody in the building] [has seen|took in] [a parcel|any package] "
            "[from {carrier}|for me].",
            "The {carrier} [hotline|website|chat] just tells me to [contact the sender|wait another {days} days].",
        ),
        templates(
            "[Can you|Could you please] [check with|chase] {carrier} [for me|and tell me what is going on]?",
            "[If it cannot arrive this week|If it is lost], please [send a new one|refund me|cancel the order].",
            "When [can I expect|will I get] [it|my {noun}|the delivery]?",
        ),
        templates(
            "I [checked|looked up] the tracking [with {carrier}|for {tracking}] and [the parcel is|it is] "
            "[stuck at the regional hub|held at customs|delayed by weather|out for delivery today].",
            "I have [opened|filed] a [trace|lost parcel investigation] with {carrier}; [they answer|this "
            "takes] [within {hours} hours|up to {days} working days].",
            "Since [the parcel|it] is [lost|overdue], I have [sent a replacement|issued a full refund of "
            "{price}] "
            "[today|just now].",
        ),
        templates(
            "Parcel delivered [after {days} days|on {date}].",
            "Lost parcel; [replacement sent|refund of {price} issued].",
            "Carrier trace opened, [delivered next day|customer confirmed receipt].",
        ),
    ),
    Category(
        "wrong_item",
        templates(
            "Wrong [item|colour|model] [received|sent]",
            "[Received|Got] the wrong {noun}",
            "Order {order}: not what I ordered",
        ),
        templates(
            "I ordered the {product} in {color} but [received|got] [a different model|the {color2} one|"
            "a {other_product} instead].",
            "The [box|package] [for order {order}|I got] contains [a {other_product}|the wrong size|a used "
            "unit] instead of [the {product}|what I ordered].",
            "[The label says|The invoice says] {product} but [inside|in the box] there is [a {other_product}|"
            "the {color2} version|only the {accessory}].",
        ),
        templates(
            "The seal on the box was [already broken|missing], so [someone|somebody] [returned it before|opened it].",
            "I need the {color} one [because it matches my other gear|for my office|as a gift].",
            "[I have not|We have not] [opened|used] the [wrong|other] item[ at all|, it is still sealed|].",
        ),
        templates(
            "[Please|Can you] send the [right|correct] [one|item|model] and tell me how to return this one.",
            "I [would like|want] to [swap it|exchange it] for the [correct|right] [version|colour|model].",
        ),
        templates(
            "I am sorry [we sent the wrong item|for the mix-up]; a [prepaid|free] return label [is attached|"
            "has been e-mailed to you] and the correct {noun} [ships|is reserved] [today|now].",
            "[Our warehouse|The warehouse team] [confirmed|found] the [picking|labelling] error, and [the "
            "correct item|your {product}] [is on its way|ships with {carrier}].",
        ),
        templates(
            "Correct item sent, wrong item returned [with a prepaid label|via {carrier}].",
            "Exchange completed; customer kept the {color2} one [at a discount of {price}|with a voucher].",
        ),
    ),
    Category(
        "refund",
        templates("Refund [status|not received|still pending]", "[Where is|Still waiting for] my refund for {order}"),
        templates(
            "I [returned|sent back] the {product} [on {date}|{days} days ago] but [the refund has not "
            "arrived|"
            "I have not seen any money back|my account still shows the charge].",
            "Your [e-mail|message] [said|confirmed] the return was [received|processed] on {date}, [yet|but] "
            "[no refund shows up|the {price} is still missing] [on my statement|in my bank account].",
        ),
        templates(
            "The return [was tracked|had tracking] with {carrier} and [shows as delivered|was signed for] "
            "[on {weekday}|{days} days ago].",
            "[I was told|Your colleague told me] the refund would take [three|five] days, [and it has been|"
            "now it is] {days}.",
        ),
        templates(
            "[When|How soon] will the {price} be [refunded|back on my card|credited]?",
            "[Please|Could you] [check|confirm] the refund [status|date] [for order {order}|for me].",
        ),
        templates(
            "The refund of {price} was [issued|processed|released] on {date}; banks [usually|normally] "
            "[take|need] {days} business days to show it.",
            "I see the [return|parcel] was [scanned|received] at our warehouse, and I have [pushed the "
            "refund "
            "through|approved the refund] [today|just now].",
        ),
        templates(
            "Refund of {price} [confirmed|completed|issued].",
            "Refund [delayed by|held for] inspection, released on {date}.",
        ),
    ),
    Category(
        "defect",
        templates(
            "{noun} [stopped working|not turning on|keeps restarting]",
            "Warranty [claim|repair] for {product}",
        ),
        templates(
            "[After|Just] {days} [days|weeks][ of normal use| of use|] the {product} [stopped turning "
            "on|keeps "
            "restarting|shuts off randomly|makes a buzzing noise].",
            "[Since|Ever since] {date} [my|the] {noun} [will not charge|shows a blank screen|freezes every "
            "few "
            "minutes|has a dead pixel cluster|crackles on the left side].",
            "The {product} [I bought|we got] [in {weekday}'s sale|last month|from you] [overheats|gets very "
            "hot|smells of burnt plastic] [after ten minutes|when charging|under load].",
        ),
        templates(
            "I [already |]tried [a factory reset|another cable|a different outlet|holding the power button "
            "for {n} seconds|updating to firmware {version}] but [nothing changed|it did not help|the "
            "problem "
            "came back].",
            "It [was|has been] [handled carefully|never dropped|kept in its case] [the whole time|since day one].",
        ),
        templates(
            "Is this covered by the warranty, and [how do I send it in|what are the next steps]?",
            "Please [repair|replace] it under warranty.",
            "Can you [repair|replace] it under warranty?",
        ),
        templates(
            "[This sounds like|That is] a hardware fault, so I have [opened|created] a warranty "
            "[case|repair] "
            "and e-mailed you a [prepaid label|pickup booking].",
            "Before we [replace it|send it for repair], please [try|do] a reset: hold the power button for "
            "{n} "
            "seconds [while it is charging|with the cable unplugged].",
        ),
        templates(
            "[Unit|Device] replaced under warranty.",
            "Repaired under warranty [and returned|in {days} days].",
            "Reset fixed the issue; no repair needed.",
        ),
    ),
    Category(
        "battery",
        templates("Battery [drains fast|life very short|not holding charge]", "{noun} battery problem"),
        templates(
            "The battery on my {product} [drops|goes] from [full|100 percent] to [empty|nothing|20 percent] "
            "in "
            "[about {n} hours|less than an hour|half a day] [even when idle|with light use|on standby].",
            "[A full charge|Charging overnight] [only lasts|gives me] [about {n} hours|barely a morning], "
            "while "
            "the [box|listing|website] [promises|says] [much more|{hours} hours].",
        ),
        templates(
            "I [turned off|disabled] [Bluetooth|Wi-Fi|the always-on display|notifications] and it [did not "
            "help|made no difference].",
            "It [also |]gets [warm|hot] [while charging|in my pocket|on the desk].",
        ),
        templates(
            "Is [this|that] [normal|a known issue|a defect], and can I [get a replacement|send it in]?",
            "[What settings should I change|Is there an update that fixes this]?",
        ),
        templates(
            "[Please|Could you] [update to firmware {version}|turn off [automatic wake|background sync]] and "
            "[run|do] [two full charge cycles|a full discharge]; [that usually fixes|this often cures] "
            "[the drain|it].",
            "[A drop like that|That much drain] [is not normal|points to a weak cell], so I have "
            "[approved|set "
            "up] a [replacement|battery exchange] [for you|under warranty].",
        ),
        templates(
            "Battery replaced under warranty.",
            "Firmware {version} fixed the battery drain.",
            "[Device|Unit] exchanged after [diagnostics|a battery test].",
        ),
        needs="battery",
    ),
    Category(
        "connectivity",
        templates(
            "[Cannot|Can't] [pair|connect] {noun}",
            "{noun} keeps disconnecting",
            "Pairing problem with {device}",
        ),
        templates(
            "My {product} [will not|refuses to] [pair|connect] with my {device}, [it shows up for a second "
            "and then disappears|the app keeps searching|it fails at the last step].",
            "The {noun} [drops|loses] the connection [every few minutes|whenever I walk away|when the "
            "microwave "
            "is on|after the latest update].",
        ),
        templates(
            "[My old|The previous] {noun} [worked fine|never had this problem] with the same {device}.",
            "I [already |]tried [forgetting the device|restarting both devices|resetting the network "
            "settings]"
            "[ twice| several times|] [with no luck|but it still fails].",
        ),
        templates(
            "[Any idea|Do you know] what [causes|is causing] this?",
            "Is [there a fix|an update coming] for this?",
        ),
        templates(
            "[Please|Try to] [forget the device|remove the {noun}] in the Bluetooth settings of your "
            "{device}, "
            "[restart both|reboot both devices], and [pair again|hold the pairing button for {n} seconds].",
            "Version {version} of the {brand} app [fixes|addresses] [this pairing bug|a known connection "
            "issue]; "
            "[please update|once you update] and [try again|let me know].",
        ),
        templates(
            "Re-pairing after app update {version} fixed the connection.",
            "Unit replaced, [radio fault|antenna fault] confirmed.",
        ),
        needs="wireless",
    ),
    Category(
        "billing",
        templates("Charged twice for order {order}", "[Double|Duplicate|Wrong] charge [on my card|on my statement]"),
        templates(
            "I was charged {price} [twice|two times] for the same order {order} [on {date}|yesterday].",
            "My [bank statement|card app] shows [a charge|an extra charge] of {price} [that I do not "
            "recognise|for "
            "an order I cancelled|on top of the correct amount].",
        ),
        templates(
            "[I only placed|There was only] one order [that day|on {date}], [I checked twice|I am sure of it].",
            "The [checkout page|app] [froze|showed an error] when I paid, so [maybe|perhaps] it went through twice.",
        ),
        templates(
            "[Please|Can you] refund the [extra|duplicate] {price}?",
            "[Which|What] charge is the real one?",
        ),
        templates(
            "[The second charge|The duplicate] is a [pending authorisation|card hold] that [drops off|is "
            "released] [within {days} business days|automatically]; only one payment went through.",
            "I [see|found] the [double|duplicate] capture and have [refunded|reversed] {price} [today|just now].",
        ),
        templates("Duplicate charge of {price} refunded.", "Pending authorisation expired; no action needed."),
    ),
    Category(
        "cancel",
        templates("Cancel [my |]order {order}", "Please cancel [the|my] {noun} order"),
        templates(
            "I [would like|need] to cancel order {order} [because I found it cheaper|because I ordered the "
            "wrong "
            "model|since I no longer need it|as it has not shipped yet].",
            "[Please|Kindly] cancel the {product} [I ordered|from my order] [on {date}|this morning|last "
            "night]; "
            "[I ordered it by mistake|my partner already bought one].",
        ),
        templates(
            "The [order page|app] [does not show|has no] cancel button [any more|for this order].",
            "[It says|The status says] [processing|preparing for dispatch] [since {date}|for {days} days].",
        ),
        templates(
            "Can you [cancel it|stop it] before it ships?",
            "[Please confirm|Let me know] once it is cancelled.",
        ),
        templates(
            "[Your order|Order {order}] [has been|was] cancelled [before it left the warehouse|in time], and "
            "the "
            "{price} [will be|is being] [refunded|released] to your [original payment method|card].",
            "[The order|It] [already shipped|left our warehouse] [on {date}|this morning], so I cannot "
            "cancel it, "
            "but you can [refuse the delivery|return it for free within 30 days].",
        ),
        templates("Order cancelled before dispatch.", "Already shipped; customer refused delivery, refund issued."),
    ),
    Category(
        "return",
        templates("Return [label|request] for {order}", "How do I return the {noun}?"),
        templates(
            "[I want|I would like|I need] to return the {product} [because it is too big|because the sound "
            "is "
            "not what I expected|since it does not fit my desk|as it is not compatible with my {device}].",
            "The {noun} [works|is fine] but [I changed my mind|it is not for me|my family does not like it], "
            "so [I want to send it back|I would like to return it] [within the return window|this week].",
        ),
        templates(
            "I [still have|kept] the [original box|packaging] and [all the accessories|the {accessory}].",
            "[It was|I bought it] [a gift|for a trip] [and it was never used|and was used only once].",
        ),
        templates(
            "[Can you|Please] send me a return label [and tell me|and let me know] [where to drop it off|if "
            "I "
            "need the original box].",
            "[How long|How many days] do I have to return it?",
        ),
        templates(
            "[Your|A prepaid] return label for {carrier} [is attached|is on its way to your inbox]; [drop "
            "the "
            "parcel at any {carrier} point|pack the {noun} in any sturdy box] within {days} days.",
            "[You can|Please] [start the return|print the label] from [your account under Orders|the order "
            "page "
            "of {order}]; the refund [follows|is issued] [within {days} days of arrival|once we inspect it].",
        ),
        templates(
            "Return label sent; refund [after inspection|of {price}] issued.",
            "Return completed via {carrier}.",
        ),
    ),
    Category(
        "firmware",
        templates("Firmware update [failed|bricked|broke] my {noun}", "Problem after update {version}"),
        templates(
            "[After|Since] [installing|the automatic update to] firmware {version} [my|the] {product} [is "
            "stuck "
            "on the logo|boots into a loop|lost all its settings|no longer connects|no longer charges].",
            "The update to {version} [stopped at|froze at|failed at] [{n}0 percent|the last step] and now "
            "the "
            "{noun} [does not respond|only blinks [red|orange]].",
        ),
        templates(
            "The {brand} app [says|shows] [update failed|error {n}0{n}|device not found] [every time|when I retry].",
            "I [did not|never] [unplug it|turn it off] during the update.",
        ),
        templates(
            "[How do I|Can you help me] [recover|restore] it?",
            "Is there a way to roll back to the old version?",
        ),
        templates(
            "[Please|Could you] [hold|press] the [reset|power] button for {n} seconds [while plugging in the "
            "cable|to enter recovery mode], then [reinstall|flash] {version} from the {brand} app.",
            "[Version|Build] {version} had a [known bug|problem] on [some|older] units; [we pulled it|it was "
            "withdrawn] and I have [sent you|e-mailed] [the fixed build|recovery steps].",
        ),
        templates("Recovery mode restore fixed the {noun}.", "Unit replaced after failed update."),
    ),
    Category(
        "missing_part",
        templates("Missing {accessory}", "{accessory} not in the box", "Order {order} incomplete"),
        templates(
            "The {product} [arrived|came] without the {accessory} [even though|although] the "
            "[listing|box|manual] "
            "[says|shows] it is included.",
            "[In the box|Inside] there [was|is] [only the {noun}|no {accessory}|just the manual], [the "
            "{accessory} is missing|nothing else].",
        ),
        templates(
            "[I searched|We searched] [all the packaging|every compartment] [twice|carefully].",
            "[Without|With no] {accessory} [I cannot|we cannot] [use it|charge it|set it up].",
        ),
        templates(
            "[Can you|Please] send the missing {accessory}?",
            "[How long will the {accessory} take|When will the {accessory} arrive]?",
        ),
        templates(
            "I have [sent|dispatched|shipped] the missing {accessory} [separately|by {carrier}|free of "
            "charge]; "
            "it [should arrive|arrives] in {days} days.",
            "[Sorry about that|Apologies], the {accessory} [ships|is sent] [in a separate parcel|separately] "
            "for "
            "this model; [it left|it shipped] [on {date}|yesterday] with tracking {tracking}.",
        ),
        templates("Missing {accessory} sent separately.", "{accessory} shipped in second parcel, delivered."),
    ),
    Category(
        "setup",
        templates("[Help with|Question about] setting up the {noun}", "How do I set up my {product}?"),
        templates(
            "I [just got|bought] the {product} and [cannot figure out|do not understand|am stuck on] how to "
            "[set it up|connect it to my {device}|register it|get it on my network].",
            "The [quick start guide|manual] for the {noun} [skips|does not explain] [the pairing step|how to "
            "add it to the app|the network setup] and I [am lost|gave up after an hour].",
        ),
        templates(
            "The {brand} app [asks for|wants] a [code|serial number] [that I cannot find|that is not on the box].",
            "I am [not very technical|new to this], so [simple steps would help|please keep it simple].",
        ),
        templates("[Can you|Could you] [walk me through it|send simple steps]?", "What am I doing wrong?"),
        templates(
            "[Open|Install] the {brand} app on your {device}, [tap|choose] Add device and [follow the "
            "steps|hold "
            "the pairing button for {n} seconds]; [the whole setup|it] [takes|should take] [about five "
            "minutes|a few minutes].",
            "The [code|serial number] is [on a sticker under the {noun}|inside the battery cover|on the back "
            "of "
            "the quick start guide]; [enter it|type it] in the {brand} app [and you are done|to finish].",
        ),
        templates("Setup completed with the {brand} app.", "Customer walked through setup; resolved."),
    ),
    Category(
        "price_match",
        templates("Price [drop|match] on {product}", "[Cheaper now|Price went down] after I bought"),
        templates(
            "I bought the {product} for {price} on {date} and [now|today] it [is|is listed at] {price2} [on "
            "your site|in your sale|at another shop].",
            "[Two|Three|A few] days after my order {order} the {noun} went on sale for {price2}, [which is|"
            "that is] [quite a difference|a lot less than I paid].",
        ),
        templates(
            "[I am|We are] [a regular customer|loyal customers] and [this feels unfair|it is disappointing].",
            "[Other shops|Some shops] refund the difference [automatically|without asking].",
        ),
        templates("Can you refund the difference?", "[Do you|Does your shop] offer price protection?"),
        templates(
            "[Since|Because] the drop [happened|came] within {days} days of purchase, I have [refunded the "
            "difference|credited {credit}] to your [card|account].",
            "Our price [match|protection] [only covers|does not cover] [other shops|marketplace "
            "sellers|flash "
            "sales], but I [can offer|have added] a {credit} voucher [as a gesture|for your next order].",
        ),
        templates("Price difference refunded.", "{credit} voucher issued as goodwill."),
    ),
    Category(
        "login",
        templates("[Cannot|Can't] log in to my account", "[Password reset|Login link] not working"),
        templates(
            "I cannot log in [to my account|to the app] [since {date}|after the password reset|on my "
            "{device}]; "
            "it [keeps saying|says] the [link|code] [expired|is invalid].",
            "The [password reset e-mail|login code] [never arrives|comes after {n} minutes and is already "
            "expired|does not work on my {device}], so I am locked out [since {weekday}|of my account].",
        ),
        templates(
            "I [requested|asked for] [a new link|the code] {n} times [already|today] [and none of them work|"
            "without luck].",
            "I [need|want] to [check|track] my order {order} [but cannot|and the app will not let me].",
        ),
        templates("[Can you|Please] [help me|sort this out] [today|quickly]?", "What should I do now?"),
        templates(
            "I have [reset|unlocked] your account; the [new link|code] [is valid|works] for {hours} hours, "
            "[so please use it soon|and should arrive in a minute].",
            "[Our login codes|The codes] [expire|run out] after {n} minutes; I have [turned off|paused] the "
            "[lock|security block] on your account, so [a new code|the next code] [will work|works] on your "
            "{device}.",
        ),
        templates("Account unlocked.", "Login code reissued; customer logged in."),
    ),
    Category(
        "address_change",
        templates("[Change|Update] delivery address for {order}", "Wrong address on order {order}"),
        templates(
            "[I moved|We moved] and [need|want] to change the delivery address for order {order} [before it "
            "ships|as soon as possible].",
            "I [made a typo|entered the old address] in the [street|house number|postcode] of order {order} "
            "[placed on {date}|this morning].",
        ),
        templates(
            "[The new address|My new flat] is [in the same city|two streets away|across town].",
            "[The parcel|My {noun}] [is|was] meant to arrive [on {weekday}|in {days} days].",
        ),
        templates("[Can you|Please] [change|update] it [today|quickly]?", "Is it too late to change it?"),
        templates(
            "[The order|Order {order}] [has not shipped yet|is still in the warehouse], so I "
            "[updated|changed] "
            "the address [for you|directly]; the confirmation [is in your inbox|follows by e-mail].",
            "[The parcel|Your {noun}] [already left|has left] our warehouse, so I [asked|told] {carrier} to "
            "[redirect it|deliver it to the new address]; that [adds|can add] [a day|{n} days].",
        ),
        templates("Delivery address updated before dispatch.", "Parcel redirected by {carrier}."),
    ),
)

OPENERS = templates(
    "Hi,",
    "Hello,",
    "Hi there,",
    "Hello support team,",
    "Good [morning|afternoon|evening],",
    "Hey,",
    "Dear {shop} team,",
    "[Hello|Hi] {shop},",
)
GENERIC_DETAILS = templates(
    "[I|We] [bought|ordered] it [as a gift|for my [son|daughter|partner|office]|for work|to replace an older one].",
    "This is the [second|third] time I [am contacting|have contacted] you about this.",
    "The order number is {order}[, placed on {date}|].",
    "I [really |]need it [before the weekend|for a trip next week|for work on {weekday}|by {date}].",
    "[I have been|I've been] a customer for [years|a long time|{n} years] and [never had a|this is my first] "
    "problem[ like this|].",
    "[It|This one] [cost|was] {price}[, so I expect it to work|, not cheap|].",
)
CLOSERS = templates(
    "Thanks[ in advance|].",
    "Thank you [in advance|for your help|very much].",
    "Looking forward to your reply.",
    "[Regards|Cheers|Best wishes].",
    "Please [help|advise].",
    "[Any help is appreciated|I appreciate any help].",
)
AGENT_OPENERS = templates(
    "Hi there,",
    "Hello,",
    "Hi,",
    "Thanks for [reaching out|contacting us|getting in touch].",
    "Thank you for your message.",
    "Good [morning|afternoon],",
)
AGENT_EMPATHY = templates(
    "I'm sorry [to hear about|about] [the trouble|this|the problem] with your {noun}.",
    "[Sorry|Apologies] for the [trouble|inconvenience|wait|hassle].",
    "I understand how [frustrating|annoying] this [is|must be].",
    "Thanks for [the details|the clear description|your patience].",
)
AGENT_NEXT = templates(
    "You will receive [a confirmation|an e-mail|an update] within {hours} hours.",
    "[If anything else comes up|If this does not help], just reply to this message.",
    "I [have added|added] a note to your [account|order] so [any colleague|the next agent] can see the history.",
)
AGENT_CLOSERS = templates(
    "[Best regards|Kind regards|All the best], the {shop} support team",
    "[Have a great day|Have a nice evening|Take care]! {shop} customer care",
    "Let us know if there is anything else we can do.",
)
FOLLOWUP_CUSTOMER = templates(
    "[Thanks|Thank you] for the [quick |]reply. [I did that|I followed your steps|I tried it] but [it still "
    "does "
    "not work|the problem is back|nothing changed] [on my {device}|after {n} hours|this morning]. [What "
    "now|Any "
    "other idea|Can you escalate this]?",
    "[Got it|Okay], [thank you|thanks]. [One more question|Quick follow-up|Also]: [do I need to keep the "
    "original "
    "box|will I get an e-mail when it ships|can I keep the {accessory} until the new one arrives|is the "
    "return "
    "free for me]?",
    "[I am still|Still] waiting [on this|for an answer]. [It has been|That was] {days} days and [nobody got "
    "back "
    "to me|the status did not change|the {noun} is still not [here|fixed]].",
)
FOLLOWUP_AGENT = templates(
    "[Thanks for|I appreciate] [trying that|the update|your patience]. I have [escalated the case to|passed "
    "this "
    "to] our [senior team|hardware team|warehouse] and [we will|someone will] [get back to you|send an "
    "update] "
    "within {hours} hours.",
    "[Yes|Sure], [you can keep|there is no need to return] the {accessory} [until the new one arrives|for "
    "now], "
    "and [the return|shipping] is [free|on us]. We will send an e-mail [as soon as|once] [it ships|the label "
    "is "
    "ready].",
    "[Sorry for the silence|Apologies for the delay]: [the case is now|your case is] [at the top of the "
    "queue|"
    "with my team lead], and [a decision|an answer] [follows|will follow] by {weekday}.",
)
